/**
 * Settling: turning a plan (which lots give how much to each line) into what is written — the
 * reservation and its history, its lines, the ledger movements, backorders for what was missing,
 * and the events. Pure: ids come from the caller's id source, the clock as `now`. The engine settles
 * requests with it and backorder fills settle through the same pieces, so a held unit is always
 * written the same way.
 */
import type { NewEvent } from '../events/schemas';
import type { BackorderFill, NewBackorder, StoredBackorder } from './backorder';
import type { LotTake, Plan, PlanLine } from './allocate';
import type { LotMovement } from './movement';
import { effectiveStatus, type NewReservation, type NewReservationLine, type StatusChange } from './reservation';
import { stockLinesOf } from './stock-lines';
import type { Priority } from './priority';
import type { StrategyChoice } from './strategies';
import type { UnavailableSerial } from './units';

/** Gives a fresh id each call; ids given later sort after earlier ones (uuid v7), so lines keep the order they were taken. */
export type IdSource = () => string;

const MINUTE_MS = 60_000;

/** A request as settling needs it; `holdMinutes` is the hold already capped by configuration. */
export type SettleRequest = StrategyChoice & {
  mode: 'reserve' | 'allocate';
  lines: PlanLine[];
  priority: Priority;
  allowBackorder: boolean;
  /** whose request it is: the reservation and backorders it leaves belong to this owner */
  owner: string;
  orderId: string;
  referenceType: string;
  customerId?: string;
  /** the allocation job being served, named in the events it causes */
  allocationId?: string;
  holdMinutes: number;
  actor: string;
  /** the units lines naming serial numbers cannot have, by line index */
  unavailableSerials?: ReadonlyMap<number, readonly UnavailableSerial[]>;
};

/** The products and warehouses named by requests that do not exist, and the named products that are discontinued (they take no new reservations). */
export type UnknownReferences = { products: ReadonlySet<string>; warehouses: ReadonlySet<string>; discontinued?: ReadonlySet<string> };

/** A line that was not served in full, and why. */
export type FailedLine = {
  lineIndex: number;
  productId: string;
  requestedQuantity: number;
  availableQuantity: number;
  reason: 'insufficient_inventory' | 'unknown_product' | 'product_discontinued' | 'serials_unavailable';
  errorMessage: string;
  /** with serials_unavailable: each unit named that cannot be had, and why */
  unavailableSerials?: UnavailableSerial[];
};

/** What settling one request writes and answers. */
export type RequestSettlement = {
  outcome: Plan['outcome'];
  /** the reservation holding what was taken; null when nothing was */
  reservation: NewReservation | null;
  history: StatusChange[];
  lines: NewReservationLine[];
  movements: LotMovement[];
  backorders: NewBackorder[];
  events: NewEvent[];
  takes: LotTake[];
  failedLines: FailedLine[];
};

const noUnknowns: UnknownReferences = { products: new Set(), warehouses: new Set() };

/** A new reservation and the first row of its history. */
function openReservation(
  fields: Omit<NewReservation, 'id' | 'expiresAt' | 'createdAt'> & { holdMinutes: number },
  why: { reason: string; actor: string },
  now: Date,
  ids: IdSource,
): { reservation: NewReservation; history: StatusChange } {
  const { holdMinutes, ...rest } = fields;
  const reservation: NewReservation = { id: ids(), ...rest, expiresAt: new Date(now.getTime() + holdMinutes * MINUTE_MS), createdAt: now };
  const history: StatusChange = {
    reservationId: reservation.id,
    fromStatus: null,
    toStatus: reservation.status,
    reason: why.reason,
    reference: reservation.orderId,
    actor: why.actor,
    at: now,
  };
  return { reservation, history };
}

/** The reservation lines and ledger movements that hold `takes` for one reservation: reserved units when reserving, allocated ones otherwise. */
export function holdTakes(
  takes: readonly LotTake[],
  hold: { reservationId: string; reserving: boolean; reason: string; actor: string },
  ids: IdSource,
): { lines: NewReservationLine[]; movements: LotMovement[] } {
  const lines: NewReservationLine[] = [];
  const movements: LotMovement[] = [];
  for (const take of takes) {
    lines.push({
      id: ids(),
      reservationId: hold.reservationId,
      lotId: take.lotId,
      productId: take.productId,
      warehouseId: take.warehouseId,
      quantity: take.quantity,
      allocatedQuantity: hold.reserving ? 0 : take.quantity,
    });
    movements.push({
      lotId: take.lotId,
      type: hold.reserving ? 'RESERVE' : 'ALLOCATE',
      ...(hold.reserving ? { reservedDelta: take.quantity } : { allocatedDelta: take.quantity }),
      reason: hold.reason,
      referenceType: 'reservation',
      referenceId: hold.reservationId,
      actor: hold.actor,
    });
  }
  return { lines, movements };
}

function failedLinesOf(plan: Plan, request: SettleRequest, unknown: UnknownReferences): FailedLine[] {
  return plan.shortfalls.map((shortfall) => {
    const failed = { lineIndex: shortfall.lineIndex, productId: shortfall.productId, requestedQuantity: shortfall.requested };
    if (unknown.products.has(shortfall.productId)) {
      return { ...failed, availableQuantity: 0, reason: 'unknown_product', errorMessage: `Product ${shortfall.productId} is not in the catalogue` };
    }
    if (unknown.discontinued?.has(shortfall.productId)) {
      const errorMessage = `Product ${shortfall.productId} is discontinued and takes no new reservations`;
      return { ...failed, availableQuantity: 0, reason: 'product_discontinued', errorMessage };
    }
    const unavailableSerials = request.unavailableSerials?.get(shortfall.lineIndex);
    if (unavailableSerials !== undefined && unavailableSerials.length > 0) {
      const errorMessage = `Units not available: ${unavailableSerials.map((unit) => `${unit.serialNumber} (${unit.status})`).join(', ')}`;
      return { ...failed, availableQuantity: 0, reason: 'serials_unavailable', errorMessage, unavailableSerials: [...unavailableSerials] };
    }
    const warehouseId = request.lines[shortfall.lineIndex]?.warehouseId;
    const errorMessage =
      warehouseId !== undefined && unknown.warehouses.has(warehouseId)
        ? `Warehouse ${warehouseId} does not exist`
        : `Only ${shortfall.available} available, ${shortfall.requested} requested`;
    return { ...failed, availableQuantity: shortfall.available, reason: 'insufficient_inventory', errorMessage };
  });
}

/**
 * Settles one request's plan: a reservation (RESERVED, or ALLOCATED in allocate mode) holding every
 * take, with its history, lines, movements and InventoryReserved or InventoryAllocated; a failed
 * line per shortfall; and, when the request allows it, a backorder (with BackorderCreated) for what
 * each line did not get — its shortfall, or all of it when an all-or-nothing request took nothing.
 * Lines naming an unknown product or warehouse, or a discontinued product, are never backordered.
 */
export function settleRequest(plan: Plan, request: SettleRequest, now: Date, ids: IdSource, unknown: UnknownReferences = noUnknowns): RequestSettlement {
  const reserving = request.mode === 'reserve';
  const settlement: RequestSettlement = {
    outcome: plan.outcome,
    reservation: null,
    history: [],
    lines: [],
    movements: [],
    backorders: [],
    events: [],
    takes: plan.takes,
    failedLines: failedLinesOf(plan, request, unknown),
  };

  if (plan.takes.length > 0) {
    const { reservation, history } = openReservation(
      {
        owner: request.owner,
        orderId: request.orderId,
        customerId: request.customerId ?? null,
        status: reserving ? 'RESERVED' : 'ALLOCATED',
        priority: request.priority,
        strategy: request.strategy,
        holdMinutes: request.holdMinutes,
      },
      {
        reason: reserving ? `reserved for ${request.referenceType}` : `allocated for ${request.referenceType} without a reservation`,
        actor: request.actor,
      },
      now,
      ids,
    );
    const held = holdTakes(
      plan.takes,
      { reservationId: reservation.id, reserving, reason: `${request.referenceType} ${request.orderId}`, actor: request.actor },
      ids,
    );
    const items = stockLinesOf(plan.takes);
    settlement.reservation = reservation;
    settlement.history.push(history);
    settlement.lines = held.lines;
    settlement.movements = held.movements;
    settlement.events.push(
      reserving
        ? {
            type: 'InventoryReserved',
            reservationId: reservation.id,
            orderId: reservation.orderId,
            customerId: reservation.customerId,
            items,
            expiresAt: reservation.expiresAt,
            timestamp: now,
          }
        : {
            type: 'InventoryAllocated',
            reservationId: reservation.id,
            allocationId: request.allocationId ?? null,
            orderId: reservation.orderId,
            items,
            timestamp: now,
          },
    );
  }

  if (request.allowBackorder && plan.shortfalls.length > 0) {
    const taken = new Array<number>(request.lines.length).fill(0);
    for (const take of plan.takes) taken[take.lineIndex] = (taken[take.lineIndex] ?? 0) + take.quantity;
    request.lines.forEach((line, lineIndex) => {
      const missing = line.quantity - (taken[lineIndex] ?? 0);
      // units named by serial number are those or none: never backordered
      if (
        missing <= 0 ||
        line.fromLots !== undefined ||
        unknown.products.has(line.productId) ||
        unknown.discontinued?.has(line.productId) === true ||
        (line.warehouseId !== undefined && unknown.warehouses.has(line.warehouseId))
      )
        return;
      const backorder: NewBackorder = {
        id: ids(),
        owner: request.owner,
        productId: line.productId,
        warehouseId: line.warehouseId ?? null,
        quantity: missing,
        mode: request.mode,
        priority: request.priority,
        strategy: request.strategy,
        reservationId: settlement.reservation?.id ?? null,
        allocationId: request.allocationId ?? null,
        referenceType: request.referenceType,
        referenceId: request.orderId,
        customerId: request.customerId ?? null,
        destinationLatitude: request.destination?.latitude ?? null,
        destinationLongitude: request.destination?.longitude ?? null,
        reservationMinutes: request.holdMinutes,
        actor: request.actor,
        createdAt: now,
      };
      settlement.backorders.push(backorder);
      settlement.events.push({
        type: 'BackorderCreated',
        backorderId: backorder.id,
        productId: backorder.productId,
        warehouseId: backorder.warehouseId,
        quantity: missing,
        priority: backorder.priority,
        reservationId: backorder.reservationId,
        allocationId: backorder.allocationId,
        referenceType: backorder.referenceType,
        referenceId: backorder.referenceId,
        timestamp: now,
      });
    });
  }
  return settlement;
}

/** A reservation a fill may add units to, as it stands. */
export type FillableReservation = Pick<NewReservation, 'id' | 'status' | 'expiresAt'>;

/** What settling backorder fills writes. */
export type FillSettlement = {
  /** reservations made for fills that could not join their own */
  reservations: NewReservation[];
  history: StatusChange[];
  lines: NewReservationLine[];
  movements: LotMovement[];
  events: NewEvent[];
  fills: BackorderFill[];
  /** existing reservations that gained units (their version moves on) */
  joined: string[];
};

/**
 * Settles the plans of backorders (one plan per backorder, same order): the units join the
 * backorder's reservation when it is free to change (`free`), in the status the backorder asks for
 * and, when reserving, not expired; otherwise a new reservation of the backorder's owner for the
 * same reference holds them, one per original request (same owner, mode, reference, reservation and customer). Records
 * BackorderFulfilled per backorder given units.
 */
export function settleFills(
  backorders: readonly StoredBackorder[],
  plans: readonly Plan[],
  free: ReadonlyMap<string, FillableReservation>,
  now: Date,
  actor: string,
  ids: IdSource,
): FillSettlement {
  const settlement: FillSettlement = { reservations: [], history: [], lines: [], movements: [], events: [], fills: [], joined: [] };
  const created = new Map<string, NewReservation>();
  const joined = new Set<string>();

  backorders.forEach((backorder, index) => {
    const takes = plans[index]?.takes ?? [];
    if (takes.length === 0) return;
    const reserving = backorder.mode === 'reserve';
    const status = reserving ? 'RESERVED' : 'ALLOCATED';
    const target = backorder.reservationId === null ? undefined : free.get(backorder.reservationId);
    let reservationId: string;
    if (target !== undefined && effectiveStatus(target, now) === status) {
      reservationId = target.id;
      joined.add(reservationId);
    } else {
      const group = [backorder.owner, backorder.mode, backorder.referenceType, backorder.referenceId, backorder.reservationId, backorder.customerId].join(
        '\u0000',
      );
      let reservation = created.get(group);
      if (reservation === undefined) {
        const opened = openReservation(
          {
            owner: backorder.owner,
            orderId: backorder.referenceId ?? backorder.id,
            customerId: backorder.customerId,
            status,
            priority: backorder.priority,
            strategy: backorder.strategy,
            holdMinutes: backorder.reservationMinutes,
          },
          { reason: 'backorder filled', actor },
          now,
          ids,
        );
        reservation = opened.reservation;
        created.set(group, reservation);
        settlement.reservations.push(reservation);
        settlement.history.push(opened.history);
      }
      reservationId = reservation.id;
    }
    const quantity = takes.reduce((sum, take) => sum + take.quantity, 0);
    const held = holdTakes(takes, { reservationId, reserving, reason: `backorder ${backorder.id}`, actor }, ids);
    settlement.lines.push(...held.lines);
    settlement.movements.push(...held.movements);
    const fulfilledQuantity = backorder.fulfilledQuantity + quantity;
    const fulfilled = fulfilledQuantity === backorder.quantity;
    settlement.fills.push({ backorderId: backorder.id, productId: backorder.productId, reservationId, quantity, fulfilled });
    settlement.events.push({
      type: 'BackorderFulfilled',
      backorderId: backorder.id,
      productId: backorder.productId,
      reservationId,
      allocationId: backorder.allocationId,
      referenceType: backorder.referenceType,
      referenceId: backorder.referenceId,
      quantity,
      fulfilledQuantity,
      remainingQuantity: backorder.quantity - fulfilledQuantity,
      status: fulfilled ? 'FULFILLED' : 'OPEN',
      items: stockLinesOf(takes),
      timestamp: now,
    });
  });
  settlement.joined = [...joined];
  return settlement;
}
