/** The allocation engine: serves reserve and allocate requests against locked lots, in batches, and returns what to write. */
import { newId } from '../ids';
import type { Config } from '../config';
import { missingReferences } from '../db/catalogue-store';
import type { Transaction } from '../db/client';
import { lockFor, peekLots, type StockLocks } from '../db/locks';
import type { LotRow } from '../db/lot-store';
import { claimExpiredReservations } from '../db/reservation-store';
import type { OutboxInsert } from '../db/outbox-store';
import { mergeWrites, type Writes } from '../db/writes';
import { planMany, sameCandidates, type LotTake, type PlanLine, type PlanRequest } from '../domain/allocate';
import { findUnitsBySerials } from '../db/unit-store';
import { takeNamedUnits, type NamedUnit, type UnavailableSerial } from '../domain/units';
import { settleRequest, type FailedLine, type IdSource, type UnknownReferences } from '../domain/settle';
import type { Priority } from '../domain/priority';
import { missingDestination, strategyChoice, type CandidateLot, type GeoPoint, type Strategy, type StrategyChoice } from '../domain/strategies';
import type { NewBackorder } from '../domain/backorder';
import type { LotMovement } from '../domain/movement';
import type { NewReservation, NewReservationLine, StatusChange } from '../domain/reservation';
import { AppError } from '../errors';
import { outboxRows } from '../events/outbox';
import type { ReservationView } from '../schemas/reservations';
import { expireHolds } from './reservations/expire';
import { reservationView } from './reservations/views';
import { toCandidateLot } from './stock/lots';
import { stockChangeWrites } from './stock-changes';

export type EngineRequest = {
  key: string;
  mode: 'reserve' | 'allocate';
  /** `serialNumbers`: the units of a serial-tracked product the line wants, one per unit of its quantity */
  lines: { productId: string; quantity: number; warehouseId?: string; serialNumbers?: readonly string[] }[];
  strategy: Strategy;
  priority: Priority;
  allowPartial: boolean;
  allowBackorder: boolean;
  destination?: GeoPoint;
  /** whose request it is: the reservation and backorders it leaves belong to this owner */
  owner: string;
  orderId: string;
  referenceType: string;
  customerId?: string;
  reservationMinutes?: number;
  /** the allocation job being served, named in the events it causes */
  allocationId?: string;
  /** the W3C traceparent the events it causes continue (the active trace context when absent) */
  traceparent?: string | null;
  actor: string;
  /**
   * What becomes of a request naming products or warehouses that do not exist, or discontinued
   * products: `refuse` leaves it out (a synchronous call answers 400 or 409); by default those lines
   * fail as short, naming why.
   */
  unknownReferences?: 'refuse' | 'fail_lines';
};

/** What serving did for one request it served. */
export type ServedRequest = {
  key: string;
  outcome: 'complete' | 'partial' | 'none';
  reservation: ReservationView | null;
  takes: LotTake[];
  failedLines: FailedLine[];
  backorders: { id: string; productId: string; warehouseId: string | null; quantity: number }[];
};

/**
 * A request left out, untouched (unknownReferences: 'refuse'), because it names products or
 * warehouses that do not exist, or else products that are discontinued.
 */
export type RefusedRequest =
  | { key: string; outcome: 'unknown_reference'; unknownProducts: string[]; unknownWarehouses: string[] }
  | { key: string; outcome: 'discontinued'; discontinuedProducts: string[] };

/** What serving did for one request. */
export type EngineOutcome = ServedRequest | RefusedRequest;

/** What serving a batch returns: one outcome per request (same order), and the writes for commitWrites. */
export type Served = { outcomes: EngineOutcome[]; writes: Writes };

/** What serving needs besides the requests: the clock, the hold limits, and where ids come from (uuid v7 unless given). */
export type ServeContext = { now: Date; config: Pick<Config, 'RESERVATION_TIMEOUT_MINUTES' | 'RESERVATION_MAX_MINUTES'>; ids?: IdSource };

/** The products a batch's requests name, and the warehouses they pin. */
type WantedStock = { productIds: string[]; pinned: string[] };

function wantedStock(requests: readonly EngineRequest[]): WantedStock {
  const productIds = new Set<string>();
  const pinned = new Set<string>();
  for (const request of requests) {
    for (const line of request.lines) {
      productIds.add(line.productId);
      if (line.warehouseId !== undefined) pinned.add(line.warehouseId);
    }
  }
  return { productIds: [...productIds], pinned: [...pinned] };
}

/**
 * Which of the wanted products and pinned warehouses do not exist, and which products are
 * discontinued, given the lots a batch may take from (lockFor reservingProducts leaves out lots of
 * discontinued products and closed warehouses). A product with such a lot, and a warehouse one of
 * those lots is in, exist and take reservations; the catalogue is asked only about the rest
 * (products without such lots, other pinned warehouses), so a batch of products in stock pays no
 * lookup at all.
 */
async function unknownReferencesOf(tx: Transaction, wanted: WantedStock, lots: readonly LotRow[]): Promise<UnknownReferences> {
  const stocked = new Set(lots.map((lot) => lot.productId));
  const holding = new Set(lots.map((lot) => lot.warehouseId));
  const { products, warehouses, discontinued } = await missingReferences(tx, {
    productIds: wanted.productIds.filter((id) => !stocked.has(id)),
    warehouseIds: wanted.pinned.filter((id) => !holding.has(id)),
  });
  return { products: new Set(products), warehouses: new Set(warehouses), discontinued: new Set(discontinued) };
}

/** Most lapsed holds one batch expires in line; more wait for the next batch or the sweeper. */
const IN_LINE_EXPIRY_LIMIT = 500;

/**
 * Expiry in line: holds whose time ran out count as free stock when a batch plans, sweeper or no
 * sweeper. When a locked lot holds reserved units, the lapsed reservations held wholly on the locked
 * lots and free to change (SKIP LOCKED: one a sweeper or a release is changing stays with it) are
 * expired in this transaction through expireHolds, exactly as the sweeper would (history, events,
 * backorders cancelled and filled), and the same lots are read again. A reservation that also holds
 * lots this batch did not lock is left to the sweeper, so no lot is locked out of order.
 */
async function expireLapsedHolds(tx: Transaction, locks: StockLocks, now: Date): Promise<StockLocks> {
  if (!locks.lots.some((lot) => lot.reservedQuantity > 0)) return locks;
  const lotIds = locks.lots.map((lot) => lot.id);
  const lapsed = await claimExpiredReservations(tx, now, IN_LINE_EXPIRY_LIMIT, lotIds);
  if (lapsed.length === 0) return locks;
  await expireHolds(tx, lapsed, { now, by: 'in_line', lots: 'held' });
  return lockFor(tx, { lotIds });
}

/** A request's lines as planned — those naming serial numbers fixed to the lots of their units — and the units such lines cannot have. */
type NamedLines = { lines: PlanLine[]; unavailable: Map<number, UnavailableSerial[]>; serials: string[] };

/**
 * The lines of each request as the planner takes them. A line naming serial numbers takes exactly
 * those units, from the lots they are in, when every one is Available in a lot this batch locked
 * (so it serves) and no earlier request of the batch named it; otherwise it takes nothing, and the
 * units it cannot have are listed. The units are read under their lots' locks, so they hold still.
 */
async function namedUnitLines(
  tx: Transaction,
  requests: readonly EngineRequest[],
  refused: readonly (RefusedRequest | undefined)[],
  lots: readonly LotRow[],
): Promise<NamedLines[]> {
  const wanted = requests.flatMap((request, index) =>
    refused[index] === undefined
      ? request.lines.flatMap((line) => (line.serialNumbers ?? []).map((serialNumber) => ({ productId: line.productId, serialNumber })))
      : [],
  );
  if (wanted.length === 0) return requests.map((request) => ({ lines: request.lines.map(planLineOf), unavailable: new Map(), serials: [] }));
  const found = await findUnitsBySerials(tx, wanted);
  const unitsOf = new Map<string, Map<string, NamedUnit>>();
  for (const unit of found) unitsOf.set(unit.productId, (unitsOf.get(unit.productId) ?? new Map<string, NamedUnit>()).set(unit.serialNumber, unit));
  const servingLots = new Set(lots.map((lot) => lot.id));
  const taken = new Map<string, Set<string>>();
  return requests.map((request, index) => {
    const unavailable = new Map<number, UnavailableSerial[]>();
    const serials: string[] = [];
    const lines = request.lines.map((line, lineIndex) => {
      if (line.serialNumbers === undefined || refused[index] !== undefined) return planLineOf(line);
      const takenOfProduct = taken.get(line.productId) ?? new Set<string>();
      taken.set(line.productId, takenOfProduct);
      const take = takeNamedUnits(line.serialNumbers, unitsOf.get(line.productId) ?? new Map(), servingLots, line.warehouseId, takenOfProduct);
      if (take.unavailable.length > 0) unavailable.set(lineIndex, take.unavailable);
      else serials.push(...line.serialNumbers);
      return { ...planLineOf(line), fromLots: take.fromLots };
    });
    return { lines, unavailable, serials };
  });
}

/** A request line as the planner takes it, without its serial numbers. */
function planLineOf(line: EngineRequest['lines'][number]): PlanLine {
  return { productId: line.productId, quantity: line.quantity, ...(line.warehouseId === undefined ? {} : { warehouseId: line.warehouseId }) };
}

/** Why a request asking to be refused is refused: it names products or warehouses that do not exist, or else discontinued products. */
function refusalOf(request: EngineRequest, unknown: UnknownReferences): RefusedRequest | undefined {
  if (request.unknownReferences !== 'refuse') return undefined;
  const products = [...new Set(request.lines.map((line) => line.productId))];
  const unknownProducts = products.filter((id) => unknown.products.has(id));
  const unknownWarehouses = [...new Set(request.lines.flatMap((line) => (line.warehouseId === undefined ? [] : [line.warehouseId])))].filter((id) =>
    unknown.warehouses.has(id),
  );
  if (unknownProducts.length > 0 || unknownWarehouses.length > 0) return { key: request.key, outcome: 'unknown_reference', unknownProducts, unknownWarehouses };
  const discontinuedProducts = products.filter((id) => unknown.discontinued?.has(id));
  return discontinuedProducts.length > 0 ? { key: request.key, outcome: 'discontinued', discontinuedProducts } : undefined;
}

function chooseStrategy(request: EngineRequest): StrategyChoice {
  const choice = strategyChoice(request.strategy, request.destination);
  // intake refuses such requests, so reaching here with one is a caller's bug
  if (choice === null) throw new AppError('VALIDATION_FAILED', `Request ${request.key}: ${missingDestination}`);
  return choice;
}

/** What a batch decided against some lots: the outcomes, its writes but those of the stock change, and the movements that change it. */
type Decision = {
  candidates: CandidateLot[];
  outcomes: EngineOutcome[];
  writes: Writes;
  movements: LotMovement[];
  chosen: Map<string, Set<string>>;
};

/**
 * Plans the requests against the lots (planMany: each sees what the earlier ones took) and settles
 * each plan (settleRequest) into reservations, lines, movements, history, backorders and events.
 * Reads nothing but the units that lines naming serial numbers want.
 */
async function decide(
  tx: Transaction,
  requests: readonly EngineRequest[],
  choices: readonly StrategyChoice[],
  lots: readonly LotRow[],
  unknown: UnknownReferences,
  ctx: ServeContext,
): Promise<Decision> {
  const { now, config } = ctx;
  const ids = ctx.ids ?? newId;
  const refused = requests.map((request) => refusalOf(request, unknown));
  const named = await namedUnitLines(tx, requests, refused, lots);
  const candidates = lots.map(toCandidateLot);
  const plans = planMany(
    requests.flatMap((request, index): PlanRequest[] =>
      refused[index] === undefined ? [{ lines: named[index]!.lines, priority: request.priority, allowPartial: request.allowPartial, ...choices[index]! }] : [],
    ),
    candidates,
    now,
  );
  const chosen = new Map<string, Set<string>>();

  const reservations: NewReservation[] = [];
  const statusHistory: StatusChange[] = [];
  const reservationLines: NewReservationLine[] = [];
  const backorders: NewBackorder[] = [];
  const movements: LotMovement[] = [];
  const outbox: OutboxInsert[] = [];
  let next = 0;
  const outcomes = requests.map((request, index): EngineOutcome => {
    const refusal = refused[index];
    if (refusal !== undefined) return refusal;
    const plan = plans[next++]!;
    const holdMinutes = Math.min(request.reservationMinutes ?? config.RESERVATION_TIMEOUT_MINUTES, config.RESERVATION_MAX_MINUTES);
    const settled = settleRequest(
      plan,
      {
        mode: request.mode,
        lines: named[index]!.lines,
        unavailableSerials: named[index]!.unavailable,
        ...choices[index]!,
        priority: request.priority,
        allowBackorder: request.allowBackorder,
        owner: request.owner,
        orderId: request.orderId,
        referenceType: request.referenceType,
        ...(request.customerId === undefined ? {} : { customerId: request.customerId }),
        ...(request.allocationId === undefined ? {} : { allocationId: request.allocationId }),
        holdMinutes,
        actor: request.actor,
      },
      now,
      ids,
      unknown,
    );
    if (settled.reservation !== null) {
      reservations.push(settled.reservation);
      if (named[index]!.serials.length > 0) chosen.set(settled.reservation.id, new Set(named[index]!.serials));
    }
    statusHistory.push(...settled.history);
    reservationLines.push(...settled.lines);
    backorders.push(...settled.backorders);
    movements.push(...settled.movements);
    outbox.push(...outboxRows(settled.events, now, request.traceparent ?? undefined));
    return {
      key: request.key,
      outcome: settled.outcome,
      reservation: settled.reservation === null ? null : reservationView(settled.reservation, settled.takes),
      takes: settled.takes,
      failedLines: settled.failedLines,
      backorders: settled.backorders.map((backorder) => ({
        id: backorder.id,
        productId: backorder.productId,
        warehouseId: backorder.warehouseId,
        quantity: backorder.quantity,
      })),
    };
  });
  return { candidates, outcomes, writes: { reservations, statusHistory, reservationLines, backorders, outbox }, movements, chosen };
}

/**
 * Serves requests in the given order inside the caller's transaction, deciding as if under ONE
 * lock of all lots of all their products: the lapsed holds on them expired in line
 * (expireLapsedHolds), planMany over them (each request sees what the earlier ones took), then
 * each plan settled (settleRequest) into reservations, lines, movements, history, backorders and
 * events. So that the lots are not locked while that runs, the batch first reads them without
 * locking (peekLots) and decides against what it read; then it locks them (lockFor, id order) and
 * keeps that decision only when the locked lots, after expiry in line, are the same candidates
 * (sameCandidates) — the decision is then exactly the one it would make under the lock — and
 * decides again under the lock otherwise. Requests naming serial numbers are always decided under
 * the lock, where their units hold still.
 * Returns the outcomes and everything to write; the caller adds its own writes (the jobs' results,
 * the answers kept under Idempotency-Keys) and commits them all with commitWrites — a constant
 * number of statements per batch, not per request. Lines of unknown products stay in the plan: they
 * have no lots, so they come out short, and an all-or-nothing request with one takes nothing.
 */
export async function serve(tx: Transaction, requests: readonly EngineRequest[], ctx: ServeContext): Promise<Served> {
  const choices = requests.map(chooseStrategy);
  if (requests.length === 0) return { outcomes: [], writes: {} };
  const wanted = wantedStock(requests);
  const selection = { reservingProducts: wanted.productIds };
  const namesSerials = requests.some((request) => request.lines.some((line) => line.serialNumbers !== undefined));

  let early: Decision | null = null;
  let peeked: LotRow[] | undefined;
  if (!namesSerials) {
    peeked = await peekLots(tx, selection);
    early = await decide(tx, requests, choices, peeked, await unknownReferencesOf(tx, wanted, peeked), ctx);
  }
  const locks = await expireLapsedHolds(tx, await lockFor(tx, selection, peeked), ctx.now);
  const decision =
    early !== null && sameCandidates(early.candidates, locks.lots.map(toCandidateLot))
      ? early
      : await decide(tx, requests, choices, locks.lots, await unknownReferencesOf(tx, wanted, locks.lots), ctx);

  const stock = await stockChangeWrites(tx, locks, decision.movements, { now: ctx.now, chosen: decision.chosen });
  return { outcomes: decision.outcomes, writes: mergeWrites(decision.writes, stock) };
}
