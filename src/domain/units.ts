/**
 * Serialized units (seed 004): one row per serial number of a serial-tracked product, each with its
 * own state — Available → Reserved → Sold → Delivered, Reserved → Available on a cancellation,
 * Available → Sold for a direct sale, Available → Written off when a damaged or lost unit leaves
 * stock through an adjustment. A unit lives in a lot, and the lot's quantities are the counts of its
 * units: on hand = Available + Reserved + Sold, reserved = Reserved, allocated = Sold. Units never
 * move by themselves: every change of a serial-tracked lot's quantities (a ledger movement) moves
 * exactly as many of its units, chosen by unitMoves. Pure.
 */
import type { LotMovement } from './movement';
import { heldOf, type LineParts } from './reservation';

export const unitStatuses = ['AVAILABLE', 'RESERVED', 'SOLD', 'DELIVERED', 'WRITTEN_OFF'] as const;
export type UnitStatus = (typeof unitStatuses)[number];

/** How a product's stock is counted: by lot quantities only, or unit by unit under serial numbers. */
export const trackingModes = ['lot', 'serial'] as const;
export type Tracking = (typeof trackingModes)[number];

/** Where each unit status may go next (seed 004's table, plus the write-off of an available unit); an empty list marks a terminal status. */
export const unitTransitions: Readonly<Record<UnitStatus, readonly UnitStatus[]>> = Object.freeze({
  AVAILABLE: Object.freeze(['RESERVED', 'SOLD', 'WRITTEN_OFF'] as const),
  RESERVED: Object.freeze(['AVAILABLE', 'SOLD'] as const),
  SOLD: Object.freeze(['DELIVERED'] as const),
  DELIVERED: Object.freeze([] as const),
  WRITTEN_OFF: Object.freeze([] as const),
});

/** Why a unit may not make a move; an expected outcome, returned rather than thrown. */
export type UnitTransitionRefusal = { code: 'INVALID_TRANSITION'; from: UnitStatus; to: UnitStatus; message: string };

/** null when the move is allowed, else a refusal naming the unit's status. */
export function checkUnitTransition(from: UnitStatus, to: UnitStatus): UnitTransitionRefusal | null {
  if (unitTransitions[from].includes(to)) return null;
  const allowed = unitTransitions[from];
  const next = allowed.length === 0 ? 'it is final' : `it can only become ${allowed.join(' or ')}`;
  return { code: 'INVALID_TRANSITION', from, to, message: `Unit is ${from} and cannot become ${to}; ${next}` };
}

/** True while the unit is in its lot's on-hand quantity. */
export function isInStock(status: UnitStatus): boolean {
  return status === 'AVAILABLE' || status === 'RESERVED' || status === 'SOLD';
}

/** What a lot's quantities must be for the given units of it. */
export function lotCountsOf(statuses: readonly UnitStatus[]): { quantity: number; reservedQuantity: number; allocatedQuantity: number } {
  let quantity = 0;
  let reservedQuantity = 0;
  let allocatedQuantity = 0;
  for (const status of statuses) {
    if (isInStock(status)) quantity += 1;
    if (status === 'RESERVED') reservedQuantity += 1;
    if (status === 'SOLD') allocatedQuantity += 1;
  }
  return { quantity, reservedQuantity, allocatedQuantity };
}

/** A unit as the picker sees it. `reservationId` names the reservation a Reserved, Sold or Delivered unit belongs to. */
export type StockUnit = { id: string; serialNumber: string; lotId: string; status: UnitStatus; reservationId: string | null };

/**
 * A unit received into a lot: its id, serial number and condition, and which life of the serial
 * number it is (1, or the next after `previousUnitId`, the unit a return brings back: comingIn).
 */
export type ReceivedUnit = {
  id: string;
  productId: string;
  warehouseId: string;
  lotId: string;
  serialNumber: string;
  condition: string;
  life: number;
  previousUnitId: string | null;
};

/** A serial number's current unit: its latest life, the one in stock when one is. */
export type SerialLife = { id: string; life: number; status: UnitStatus };

/** Whether a serial number may come in, and as which life; else the status of the unit that keeps it out. */
export type ComingIn = { ok: true; life: number; previousUnitId: string | null } | { ok: false; status: UnitStatus };

/**
 * Whether a serial number of a product may come in by a receipt or a return, given its current unit
 * (undefined: the product never had it). A serial number never seen comes in as life 1. A receipt of
 * one the product has or had is refused, whatever its status. A return of one whose unit left stock
 * (Delivered: a customer's return; Written off: a unit written off that turned up again) brings it
 * back as a new unit, the next life, linked to that one — the old unit keeps its terminal status and
 * history. A return of one still in stock (Available, Reserved, Sold) is refused. So at most one
 * unit of a serial number is ever in stock, and it is always the latest life.
 */
export function comingIn(type: 'RECEIPT' | 'RETURN', current: SerialLife | undefined): ComingIn {
  if (current === undefined) return { ok: true, life: 1, previousUnitId: null };
  if (type === 'RETURN' && !isInStock(current.status)) return { ok: true, life: current.life + 1, previousUnitId: current.id };
  return { ok: false, status: current.status };
}

/** The current unit of each serial number among these units (its latest life), in their order. SQL mirror: unitIsCurrentSql (src/db/unit-store.ts). */
export function currentLives<T extends { productId: string; serialNumber: string; life: number }>(units: readonly T[]): T[] {
  const latest = new Map<string, number>();
  for (const unit of units) {
    const key = JSON.stringify([unit.productId, unit.serialNumber]);
    latest.set(key, Math.max(latest.get(key) ?? 0, unit.life));
  }
  return units.filter((unit) => latest.get(JSON.stringify([unit.productId, unit.serialNumber])) === unit.life);
}

/** One step of one unit, in the order taken; becomes a row of the unit's status history. */
export type UnitStep = {
  unitId: string;
  fromStatus: UnitStatus | null;
  toStatus: UnitStatus;
  reservationId: string | null;
  reason: string;
  reference: string | null;
  actor: string;
};

/** A unit's state after the movements: one per unit that moved. */
export type UnitChange = { id: string; status: UnitStatus; reservationId: string | null };

/** What a set of movements does to units: units received, changes of existing units, and every step for their histories. */
export type UnitMoves = { received: ReceivedUnit[]; changes: UnitChange[]; steps: UnitStep[] };

/** Which units move for one movement: from which status (null: new units) to which, and of which reservation. */
type Shift = { from: UnitStatus | null; to: UnitStatus; count: number; ofReservation: boolean };

/**
 * The shift of units a movement stands for, read from its deltas: reserving takes Available units,
 * allocating turns Reserved ones (or, without a reservation before it, Available ones) into Sold,
 * releasing and expiring give Reserved ones back, shipping delivers Sold ones, units in are new,
 * and units out otherwise (write-offs, shipments by adjustment, transfers out) leave as written off.
 * A movement that fits none of these is a bug, and throws.
 */
export function shiftOf(movement: Pick<LotMovement, 'quantityDelta' | 'reservedDelta' | 'allocatedDelta' | 'type'>): Shift {
  const q = movement.quantityDelta ?? 0;
  const r = movement.reservedDelta ?? 0;
  const a = movement.allocatedDelta ?? 0;
  if (q === 0 && r > 0 && a === 0) return { from: 'AVAILABLE', to: 'RESERVED', count: r, ofReservation: false };
  if (q === 0 && r < 0 && a === -r) return { from: 'RESERVED', to: 'SOLD', count: a, ofReservation: true };
  if (q === 0 && r === 0 && a > 0) return { from: 'AVAILABLE', to: 'SOLD', count: a, ofReservation: false };
  if (q === 0 && r < 0 && a === 0) return { from: 'RESERVED', to: 'AVAILABLE', count: -r, ofReservation: true };
  if (q < 0 && r === 0 && a === q) return { from: 'SOLD', to: 'DELIVERED', count: -q, ofReservation: true };
  if (q > 0 && r === 0 && a === 0) return { from: null, to: 'AVAILABLE', count: q, ofReservation: false };
  if (q < 0 && r === 0 && a === 0) return { from: 'AVAILABLE', to: 'WRITTEN_OFF', count: -q, ofReservation: false };
  throw new Error(`a ${movement.type} movement of ${q}/${r}/${a} moves no unit state`);
}

/** The reservation a movement belongs to, when it is one's. */
function reservationOf(movement: LotMovement): string | null {
  return movement.referenceType === 'reservation' ? (movement.referenceId ?? null) : null;
}

/**
 * Which units the movements of serial-tracked lots move, in movement order: each takes the units it
 * needs from its lot, in the status its shift starts from (and of its reservation when the shift
 * is one of a reservation's units), those its reference (a reservation, an adjustment) asked for by
 * serial number first (`chosen`, by reference id), then any not asked for by another, by serial number. Units in come from
 * `received`, lot by lot in order. Throws when a lot lacks the units its movement moves: the lot's
 * quantities and its units disagree, which the database forbids.
 */
export function unitMoves(
  movements: readonly LotMovement[],
  units: readonly StockUnit[],
  received: readonly ReceivedUnit[],
  chosen: ReadonlyMap<string, ReadonlySet<string>> = new Map(),
): UnitMoves {
  const working = new Map(units.map((unit) => [unit.id, { ...unit }]));
  const byLot = new Map<string, StockUnit[]>();
  for (const unit of working.values()) byLot.set(unit.lotId, [...(byLot.get(unit.lotId) ?? []), unit]);
  for (const lotUnits of byLot.values()) lotUnits.sort((a, b) => (a.serialNumber < b.serialNumber ? -1 : a.serialNumber > b.serialNumber ? 1 : 0));
  const claimedBy = new Map<string, string>();
  for (const [reservationId, serials] of chosen) for (const serial of serials) claimedBy.set(serial, reservationId);
  const arriving = new Map<string, ReceivedUnit[]>();
  for (const unit of received) arriving.set(unit.lotId, [...(arriving.get(unit.lotId) ?? []), unit]);

  const moves: UnitMoves = { received: [], changes: [], steps: [] };
  const changed = new Map<string, UnitChange>();
  for (const movement of movements) {
    const shift = shiftOf(movement);
    const reservationId = reservationOf(movement);
    const reason = movement.reason ?? movement.type.toLowerCase();
    const step = { reason, reference: movement.referenceId ?? null, actor: movement.actor };
    if (shift.from === null) {
      const incoming = arriving.get(movement.lotId) ?? [];
      if (incoming.length < shift.count) throw new Error(`lot ${movement.lotId} receives ${shift.count} units but ${incoming.length} serial numbers`);
      for (const unit of incoming.splice(0, shift.count)) {
        moves.received.push(unit);
        moves.steps.push({ unitId: unit.id, fromStatus: null, toStatus: 'AVAILABLE', reservationId: null, ...step });
      }
      continue;
    }
    const claimant = movement.referenceId ?? null;
    const rank = (unit: StockUnit) => {
      const claim = claimedBy.get(unit.serialNumber);
      return claim === undefined ? 1 : claim === claimant ? 0 : 2;
    };
    const candidates = (byLot.get(movement.lotId) ?? [])
      .filter((unit) => unit.status === shift.from && (!shift.ofReservation || unit.reservationId === reservationId))
      .map((unit, index) => ({ unit, index }))
      .sort((a, b) => rank(a.unit) - rank(b.unit) || a.index - b.index)
      .slice(0, shift.count)
      .map(({ unit }) => unit);
    if (candidates.length < shift.count) {
      throw new Error(`lot ${movement.lotId} has ${candidates.length} ${shift.from} units for a ${movement.type} of ${shift.count}`);
    }
    for (const unit of candidates) {
      const from = unit.status;
      unit.status = shift.to;
      if (shift.to === 'AVAILABLE' || shift.to === 'WRITTEN_OFF') unit.reservationId = null;
      else if (!shift.ofReservation) unit.reservationId = reservationId;
      moves.steps.push({ unitId: unit.id, fromStatus: from, toStatus: shift.to, reservationId: unit.reservationId, ...step });
      changed.set(unit.id, { id: unit.id, status: unit.status, reservationId: unit.reservationId });
    }
  }
  moves.changes = [...changed.values()];
  return moves;
}

/** The serial numbers that appear more than once, each once, in first-seen order. */
export function repeatedSerials(serialNumbers: readonly string[]): string[] {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const serial of serialNumbers) {
    if (seen.has(serial)) repeated.add(serial);
    seen.add(serial);
  }
  return [...repeated];
}

/** The reason of the step a unit takes when its reservation is moved to another order. */
export const RESERVATION_MOVED = 'reservation moved';

/**
 * The units a reservation move hands over (POST /inventory/reservations/:id/transfer): from each lot,
 * as many of the source's Reserved units as the move takes, by serial number, now the target's. They
 * stay Reserved; each takes a step Reserved → Reserved (RESERVATION_MOVED, referencing the target),
 * so its history says which reservation holds it from then on. Throws when a lot lacks them (its
 * units disagree with the source's lines, which the database forbids).
 */
export function unitsHandedOver(
  units: readonly StockUnit[],
  moves: readonly { lotId: string; quantity: number }[],
  sourceId: string,
  targetId: string,
  actor: string,
): { changes: UnitChange[]; steps: UnitStep[] } {
  const bySerial = [...units].sort((a, b) => (a.serialNumber < b.serialNumber ? -1 : a.serialNumber > b.serialNumber ? 1 : 0));
  const handed = moves.flatMap(({ lotId, quantity }) => {
    const held = bySerial.filter((unit) => unit.lotId === lotId && unit.status === 'RESERVED' && unit.reservationId === sourceId).slice(0, quantity);
    if (held.length < quantity) throw new Error(`lot ${lotId} holds ${held.length} units of reservation ${sourceId} for a move of ${quantity}`);
    return held;
  });
  return {
    changes: handed.map((unit) => ({ id: unit.id, status: 'RESERVED', reservationId: targetId })),
    steps: handed.map((unit) => ({
      unitId: unit.id,
      fromStatus: 'RESERVED',
      toStatus: 'RESERVED',
      reservationId: targetId,
      reason: RESERVATION_MOVED,
      reference: targetId,
      actor,
    })),
  };
}

/** Why a unit named by serial number cannot be taken: its status, or UNKNOWN (no such unit of the product), ELSEWHERE (not at the line's warehouse), NOT_SERVING (its lot serves no new request: expired, or in a closed warehouse). */
export type UnavailableSerial = { serialNumber: string; status: UnitStatus | 'UNKNOWN' | 'ELSEWHERE' | 'NOT_SERVING' };

/** A unit as a request naming it finds it. */
export type NamedUnit = { serialNumber: string; lotId: string; warehouseId: string; status: UnitStatus };

/**
 * What a line naming serial numbers takes: from each lot, as many units as it names there — when
 * every one is Available in a lot that serves (`servingLots`), at the line's warehouse if it names
 * one, and not already taken by an earlier request (`taken`, which it then joins). Otherwise it
 * takes nothing and lists the units it cannot have.
 */
export function takeNamedUnits(
  serialNumbers: readonly string[],
  units: ReadonlyMap<string, NamedUnit>,
  servingLots: ReadonlySet<string>,
  warehouseId: string | undefined,
  taken: Set<string>,
): { fromLots: { lotId: string; quantity: number }[]; unavailable: UnavailableSerial[] } {
  const unavailable: UnavailableSerial[] = [];
  const counts = new Map<string, number>();
  for (const serialNumber of serialNumbers) {
    const unit = units.get(serialNumber);
    if (unit === undefined) unavailable.push({ serialNumber, status: 'UNKNOWN' });
    else if (taken.has(serialNumber)) unavailable.push({ serialNumber, status: 'RESERVED' });
    else if (unit.status !== 'AVAILABLE') unavailable.push({ serialNumber, status: unit.status });
    else if (warehouseId !== undefined && unit.warehouseId !== warehouseId) unavailable.push({ serialNumber, status: 'ELSEWHERE' });
    else if (!servingLots.has(unit.lotId)) unavailable.push({ serialNumber, status: 'NOT_SERVING' });
    else counts.set(unit.lotId, (counts.get(unit.lotId) ?? 0) + 1);
  }
  if (unavailable.length > 0) return { fromLots: [], unavailable };
  for (const serialNumber of serialNumbers) taken.add(serialNumber);
  return { fromLots: [...counts].map(([lotId, quantity]) => ({ lotId, quantity })), unavailable };
}

/** The statuses of units a reservation has or had: held (Reserved), allocated and not shipped (Sold), shipped (Delivered). */
export const reservationUnitStatuses = ['RESERVED', 'SOLD', 'DELIVERED'] as const;
export type ReservationUnitStatus = (typeof reservationUnitStatuses)[number];

/** A reservation line as the unit comparison reads it: its lot and what became of its units. */
export type UnitLine = LineParts & { reservationId: string; lotId: string; productId: string; shippedQuantity: number };

/** A unit as the comparison with its reservation's lines sees it. */
export type ReservationUnit = { serialNumber: string; productId: string; lotId: string; status: UnitStatus; reservationId: string | null };

/**
 * Units of one reservation, lot and status whose count differs from what the reservation's lines say
 * (`expected`), with the serial numbers of those there are. `reservationId` null: units Reserved,
 * Sold or Delivered that belong to no reservation at all (expected 0).
 */
export type UnitDisagreement = {
  reservationId: string | null;
  productId: string;
  lotId: string;
  status: ReservationUnitStatus;
  expected: number;
  actual: number;
  serialNumbers: string[];
};

/** How many units of each status a line stands for: Reserved the units it still holds, Sold those allocated and not shipped, Delivered those shipped. */
export function unitCountsOfLine(line: UnitLine): Record<ReservationUnitStatus, number> {
  return { RESERVED: heldOf(line), SOLD: line.allocatedQuantity - line.shippedQuantity, DELIVERED: line.shippedQuantity };
}

function isReservationUnitStatus(status: UnitStatus): status is ReservationUnitStatus {
  return (reservationUnitStatuses as readonly UnitStatus[]).includes(status);
}

/**
 * Where units and their reservations' lines of serial-tracked lots disagree: for every reservation,
 * lot and status, the units there are against the count the lines say (unitCountsOfLine), and units
 * Reserved, Sold or Delivered of no reservation. Pass every line of the reservations the units
 * belong to (of serial-tracked lots only: lot-tracked lots have no units). Empty when all agree.
 * SQL mirror, by lot: findUnitMismatchLots (src/db/consistency-store.ts).
 */
export function unitDisagreements(lines: readonly UnitLine[], units: readonly ReservationUnit[]): UnitDisagreement[] {
  type Group = { reservationId: string | null; productId: string; lotId: string; status: ReservationUnitStatus; expected: number; serialNumbers: string[] };
  const groups = new Map<string, Group>();
  const groupOf = (reservationId: string | null, productId: string, lotId: string, status: ReservationUnitStatus): Group => {
    const key = JSON.stringify([reservationId, lotId, status]);
    let group = groups.get(key);
    if (group === undefined) {
      group = { reservationId, productId, lotId, status, expected: 0, serialNumbers: [] };
      groups.set(key, group);
    }
    return group;
  };
  for (const line of lines) {
    const counts = unitCountsOfLine(line);
    for (const status of reservationUnitStatuses) groupOf(line.reservationId, line.productId, line.lotId, status).expected += counts[status];
  }
  for (const unit of units) {
    if (isReservationUnitStatus(unit.status)) groupOf(unit.reservationId, unit.productId, unit.lotId, unit.status).serialNumbers.push(unit.serialNumber);
  }
  return [...groups.values()]
    .filter((group) => group.expected !== group.serialNumbers.length)
    .map((group) => ({ ...group, actual: group.serialNumbers.length, serialNumbers: [...group.serialNumbers].sort() }));
}

/** The moves a unit call makes through a reservation (POST /units/mark-sold, /units/mark-delivered): allocating it, shipping it. */
export const markTargets = ['SOLD', 'DELIVERED'] as const;
export type MarkTarget = (typeof markTargets)[number];

/** The status a unit must be in for a mark call to move it to the target: Reserved to be sold, Sold to be delivered. */
export const markedFrom: Readonly<Record<MarkTarget, UnitStatus>> = Object.freeze({ SOLD: 'RESERVED', DELIVERED: 'SOLD' });

/**
 * Why a unit in `status` is not moved to `target` by a mark call, or null when it is: the transition
 * table refuses the move, or the move is allowed but not through a reservation (an Available unit is
 * sold by a direct allocation naming it).
 */
export function whyNotMarked(status: UnitStatus, target: MarkTarget): string | null {
  if (status === markedFrom[target]) return null;
  const refusal = checkUnitTransition(status, target);
  if (refusal !== null) return refusal.message;
  return `Unit is ${status}; a mark call moves only ${markedFrom[target]} units of a reservation (sell an AVAILABLE unit by a direct allocation naming its serial number)`;
}

/** What re-deriving a lot's units from its reservation lines comes to: the changes and their steps, or why it may not be done automatically. */
export type Rederivation = { ok: true; changes: UnitChange[]; steps: UnitStep[] } | { ok: false; why: string };

/**
 * Re-derives the states of one serial-tracked lot's units from every reservation line on the lot
 * (the consistency fix of unit_mismatch): each reservation gets as many Reserved units as its lines
 * hold and as many Sold ones as they allocated and did not ship — units already so keep their place;
 * then, by serial number, other units of that status (so while the lot's units agree with its
 * quantities, only reservations are handed over and no status changes), units of the same
 * reservation, units not Available, Available ones — and every other unit in stock becomes Available. Only units
 * in stock move, and only their status or reservation changes: a Delivered unit is never moved back,
 * and a lot whose lines hold more units than it has in stock, or that would then disagree with its
 * own quantities (`lot`), is left to a person. A step is written for each change of status
 * (`reason`, referencing the reservation the unit now belongs to, else the lot).
 */
export function rederiveUnits(
  lines: readonly UnitLine[],
  units: readonly StockUnit[],
  delivered: readonly ReservationUnit[],
  lot: { id: string; reservedQuantity: number; allocatedQuantity: number },
  step: { reason: string; actor: string },
): Rederivation {
  const deliveredOff = unitDisagreements(lines, delivered).filter((disagreement) => disagreement.status === 'DELIVERED');
  if (deliveredOff.length > 0) {
    return { ok: false, why: `lot ${lot.id} has Delivered units its reservation lines do not account for; a Delivered unit is not moved back automatically` };
  }
  const wanted = new Map<string, { reservationId: string; status: 'RESERVED' | 'SOLD'; count: number }>();
  for (const line of lines) {
    const counts = unitCountsOfLine(line);
    for (const status of ['RESERVED', 'SOLD'] as const) {
      if (counts[status] === 0) continue;
      const key = JSON.stringify([line.reservationId, status]);
      const entry = wanted.get(key) ?? { reservationId: line.reservationId, status, count: 0 };
      entry.count += counts[status];
      wanted.set(key, entry);
    }
  }
  let reserved = 0;
  let allocated = 0;
  for (const entry of wanted.values()) {
    if (entry.status === 'RESERVED') reserved += entry.count;
    else allocated += entry.count;
  }
  const inStock = units.filter((unit) => isInStock(unit.status));
  if (reserved + allocated > inStock.length) {
    return { ok: false, why: `lot ${lot.id} has ${inStock.length} units in stock but its reservation lines hold ${reserved + allocated}` };
  }
  if (reserved !== lot.reservedQuantity || allocated !== lot.allocatedQuantity) {
    return {
      ok: false,
      why: `lot ${lot.id} holds ${lot.reservedQuantity} reserved / ${lot.allocatedQuantity} allocated but its reservation lines ${reserved} / ${allocated}; compare it with its ledger first`,
    };
  }

  const bySerial = [...inStock].sort((a, b) => (a.serialNumber < b.serialNumber ? -1 : a.serialNumber > b.serialNumber ? 1 : 0));
  const placed = new Map<string, { status: UnitStatus; reservationId: string | null }>();
  const need = new Map([...wanted].map(([key, entry]) => [key, entry.count]));
  const keyOf = (reservationId: string | null, status: UnitStatus) => JSON.stringify([reservationId, status]);
  // units already where their reservation's lines want them keep their place
  for (const unit of bySerial) {
    const key = keyOf(unit.reservationId, unit.status);
    const left = need.get(key) ?? 0;
    if (left === 0) continue;
    need.set(key, left - 1);
    placed.set(unit.id, { status: unit.status, reservationId: unit.reservationId });
  }
  const free = () => bySerial.filter((unit) => !placed.has(unit.id));
  for (const [key, entry] of wanted) {
    let left = need.get(key) ?? 0;
    if (left === 0) continue;
    const rank = (unit: StockUnit) => (unit.status === entry.status ? 0 : unit.reservationId === entry.reservationId ? 1 : unit.status !== 'AVAILABLE' ? 2 : 3);
    const candidates = free()
      .map((unit, index) => ({ unit, index }))
      .sort((a, b) => rank(a.unit) - rank(b.unit) || a.index - b.index);
    for (const { unit } of candidates) {
      if (left === 0) break;
      placed.set(unit.id, { status: entry.status, reservationId: entry.reservationId });
      left -= 1;
    }
    need.set(key, left);
  }
  for (const unit of free()) placed.set(unit.id, { status: 'AVAILABLE', reservationId: null });

  const changes: UnitChange[] = [];
  const steps: UnitStep[] = [];
  for (const unit of bySerial) {
    const next = placed.get(unit.id)!;
    if (next.status === unit.status && next.reservationId === unit.reservationId) continue;
    changes.push({ id: unit.id, ...next });
    // a unit that only changes hands keeps its status, and its history still says so
    steps.push({
      unitId: unit.id,
      fromStatus: unit.status,
      toStatus: next.status,
      reservationId: next.reservationId,
      reason: step.reason,
      reference: next.reservationId ?? lot.id,
      actor: step.actor,
    });
  }
  return { ok: true, changes, steps };
}
