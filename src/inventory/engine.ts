/** The allocation engine: serves reserve and allocate requests against locked lots, in batches. */
import { v7 as uuidv7 } from 'uuid';
import type { Config } from '../config';
import { backordersInsert, type NewBackorder } from '../db/backorder-store';
import { missingReferences } from '../db/catalogue-store';
import { runTogether, type Statement, type Transaction } from '../db/client';
import { lockLotsOfProducts, type LotMovement, type LotRow } from '../db/lot-store';
import {
  reservationLinesInsert,
  reservationsInsert,
  statusHistoryInsert,
  type NewReservation,
  type NewReservationLine,
  type StatusChange,
} from '../db/reservation-store';
import { planMany, type LotTake, type PlanRequest } from '../domain/allocate';
import { priorityWeight, type GeoPoint, type Priority, type Strategy } from '../domain/strategies';
import { AppError } from '../errors';
import { eventsToRecord } from '../events/outbox';
import type { NewEvent } from '../events/schemas';
import type { ReservationView } from '../schemas/reservations';
import { stockLinesOf } from '../domain/stock-lines';
import { applyStockChanges } from './stock-changes';
import { reservationView, toCandidateLot } from './reservations/views';

export type EngineRequest = {
  key: string;
  mode: 'reserve' | 'allocate';
  lines: { productId: string; quantity: number; warehouseId?: string }[];
  strategy: Strategy;
  priority: Priority;
  allowPartial: boolean;
  allowBackorder: boolean;
  destination?: GeoPoint;
  orderId: string;
  referenceType: string;
  customerId?: string;
  reservationMinutes?: number;
  /** the allocation job being served, named in the events it causes */
  allocationId?: string;
  actor: string;
};

export type EngineOutcome = {
  key: string;
  outcome: 'complete' | 'partial' | 'none';
  reservation: ReservationView | null;
  takes: LotTake[];
  failedLines: {
    lineIndex: number;
    productId: string;
    requestedQuantity: number;
    availableQuantity: number;
    reason: 'insufficient_inventory' | 'unknown_product';
    errorMessage: string;
  }[];
  backorders: { id: string; productId: string; warehouseId: string | null; quantity: number }[];
};

const MINUTE_MS = 60_000;

/** The products and warehouses named by a batch of requests that do not exist. */
export type UnknownReferences = { products: ReadonlySet<string>; warehouses: ReadonlySet<string> };

/** What a batch of requests is served against: the lots it locked, and what it names that does not exist. */
export type LockedStock = { lots: LotRow[]; unknown: UnknownReferences };

/** Writes a caller makes in the engine's last statement, built from the outcomes (see serveRequests). */
export type WritesWith = (outcomes: readonly EngineOutcome[]) => readonly (Statement | undefined)[];

/**
 * Locks every lot of every product the requests name (one statement, id order) and finds which of
 * their products and pinned warehouses do not exist. A product with a lot, and a warehouse one of
 * those lots is in, exist; the catalogue is asked only about the rest (products without lots,
 * other pinned warehouses), so a batch of products in stock pays no lookup at all. A line pinned
 * to a warehouse that does not exist finds no lots; it must not become a backorder either, or its
 * insert would fail the whole batch.
 */
export async function lockStockFor(tx: Transaction, requests: readonly Pick<EngineRequest, 'lines'>[]): Promise<LockedStock> {
  const productIds = new Set<string>();
  const pinned = new Set<string>();
  for (const request of requests) {
    for (const line of request.lines) {
      productIds.add(line.productId);
      if (line.warehouseId !== undefined) pinned.add(line.warehouseId);
    }
  }
  const lots = productIds.size === 0 ? [] : await lockLotsOfProducts(tx, [...productIds]);
  const stocked = new Set(lots.map((lot) => lot.productId));
  const holding = new Set(lots.map((lot) => lot.warehouseId));
  const { products, warehouses } = await missingReferences(tx, {
    productIds: [...productIds].filter((id) => !stocked.has(id)),
    warehouseIds: [...pinned].filter((id) => !holding.has(id)),
  });
  return { lots, unknown: { products: new Set(products), warehouses: new Set(warehouses) } };
}

/**
 * Serves requests in the given order inside the caller's transaction: ONE lock of all lots of all
 * their products (lockStockFor, unless the caller passes what it locked), planMany over them, then
 * all writes batched: movements via applyStockChanges, then reservations, lines, status history,
 * backorders, events and the caller's own writes in one statement (runTogether) — a constant number
 * of statements per batch, not per request. `writeWith` is called exactly once with the outcomes,
 * even for no requests, and returns the caller's writes (e.g. the jobs' results). Records
 * InventoryReserved or InventoryAllocated per reservation made and BackorderCreated per backorder.
 */
export async function serveRequests(
  tx: Transaction,
  requests: readonly EngineRequest[],
  ctx: { now: Date; config: Pick<Config, 'RESERVATION_TIMEOUT_MINUTES' | 'RESERVATION_MAX_MINUTES'> },
  options: { locked?: LockedStock; writeWith?: WritesWith } = {},
): Promise<EngineOutcome[]> {
  if (requests.length === 0) {
    await runTogether(tx, options.writeWith?.([]) ?? []);
    return [];
  }
  const { now, config } = ctx;
  for (const request of requests) {
    // the planner cannot order by distance without one; intake refuses such requests, so this is a caller's bug
    if (request.strategy === 'nearest_location' && request.destination === undefined) {
      throw new AppError('VALIDATION_FAILED', `Request ${request.key}: nearest_location needs a destination`);
    }
  }

  const {
    lots,
    unknown: { products: unknown, warehouses: unknownWarehouses },
  } = options.locked ?? (await lockStockFor(tx, requests));

  // Lines of unknown products stay in the plan: they have no lots, so they come out short, and an
  // all-or-nothing request with one of them takes nothing — exactly the rule for any short line.
  const plans = planMany(requests.map(toPlanRequest), lots.map(toCandidateLot), now);

  const reservations: NewReservation[] = [];
  const lines: NewReservationLine[] = [];
  const history: StatusChange[] = [];
  const movements: LotMovement[] = [];
  const backorders: NewBackorder[] = [];
  const events: NewEvent[] = [];
  const nowMs = now.getTime();

  const outcomes = requests.map((request, index): EngineOutcome => {
    const plan = plans[index]!;
    const minutes = Math.min(request.reservationMinutes ?? config.RESERVATION_TIMEOUT_MINUTES, config.RESERVATION_MAX_MINUTES);
    let reservation: ReservationView | null = null;

    if (plan.takes.length > 0) {
      const reserving = request.mode === 'reserve';
      const row: NewReservation = {
        id: uuidv7(),
        orderId: request.orderId,
        customerId: request.customerId ?? null,
        status: reserving ? 'RESERVED' : 'ALLOCATED',
        priority: request.priority,
        strategy: request.strategy,
        expiresAt: new Date(nowMs + minutes * MINUTE_MS),
        createdAt: now,
      };
      reservations.push(row);
      history.push({
        reservationId: row.id,
        fromStatus: null,
        toStatus: row.status,
        reason: reserving ? `reserved for ${request.referenceType}` : `allocated for ${request.referenceType} without a reservation`,
        reference: request.orderId,
        actor: request.actor,
        at: now,
      });
      const reason = `${request.referenceType} ${request.orderId}`;
      holdTakes(plan.takes, { reservationId: row.id, reserving, reason, actor: request.actor }, lines, movements);
      reservation = reservationView(row, plan.takes);
      const items = stockLinesOf(plan.takes);
      events.push(
        reserving
          ? {
              type: 'InventoryReserved',
              reservationId: row.id,
              orderId: row.orderId,
              customerId: row.customerId,
              items,
              expiresAt: row.expiresAt,
              timestamp: now,
            }
          : { type: 'InventoryAllocated', reservationId: row.id, allocationId: request.allocationId ?? null, orderId: row.orderId, items, timestamp: now },
      );
    }

    const failedLines = plan.shortfalls.map((shortfall) => {
      const failed = { lineIndex: shortfall.lineIndex, productId: shortfall.productId, requestedQuantity: shortfall.requested };
      if (unknown.has(shortfall.productId)) {
        return { ...failed, availableQuantity: 0, reason: 'unknown_product' as const, errorMessage: `Product ${shortfall.productId} is not in the catalogue` };
      }
      const warehouseId = request.lines[shortfall.lineIndex]!.warehouseId;
      const errorMessage =
        warehouseId !== undefined && unknownWarehouses.has(warehouseId)
          ? `Warehouse ${warehouseId} does not exist`
          : `Only ${shortfall.available} available, ${shortfall.requested} requested`;
      return { ...failed, availableQuantity: shortfall.available, reason: 'insufficient_inventory' as const, errorMessage };
    });

    const requestBackorders: EngineOutcome['backorders'] = [];
    if (request.allowBackorder && plan.shortfalls.length > 0) {
      // what each line did not get: its shortfall, or all of it when an all-or-nothing request took nothing
      const taken = new Array<number>(request.lines.length).fill(0);
      for (const take of plan.takes) taken[take.lineIndex]! += take.quantity;
      request.lines.forEach((line, lineIndex) => {
        const missing = line.quantity - taken[lineIndex]!;
        if (missing <= 0 || unknown.has(line.productId) || (line.warehouseId !== undefined && unknownWarehouses.has(line.warehouseId))) return;
        const backorder: NewBackorder = {
          id: uuidv7(),
          productId: line.productId,
          warehouseId: line.warehouseId ?? null,
          quantity: missing,
          mode: request.mode,
          priority: priorityWeight[request.priority],
          strategy: request.strategy,
          reservationId: reservation?.reservationId ?? null,
          allocationId: request.allocationId ?? null,
          referenceType: request.referenceType,
          referenceId: request.orderId,
          customerId: request.customerId ?? null,
          destinationLatitude: request.destination?.latitude ?? null,
          destinationLongitude: request.destination?.longitude ?? null,
          reservationMinutes: minutes,
          actor: request.actor,
          createdAt: now,
        };
        backorders.push(backorder);
        events.push({
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
        requestBackorders.push({ id: backorder.id, productId: backorder.productId, warehouseId: backorder.warehouseId, quantity: missing });
      });
    }

    return { key: request.key, outcome: plan.outcome, reservation, takes: plan.takes, failedLines, backorders: requestBackorders };
  });

  await applyStockChanges(tx, movements, { now });
  const outbox = await eventsToRecord(tx, events);
  await runTogether(tx, [
    reservationsInsert(reservations),
    reservationLinesInsert(lines),
    statusHistoryInsert(history),
    backordersInsert(backorders),
    outbox.insert,
    ...(options.writeWith?.(outcomes) ?? []),
  ]);
  return outcomes;
}

function toPlanRequest(request: EngineRequest): PlanRequest {
  const planned: PlanRequest = {
    lines: request.lines,
    strategy: request.strategy,
    priority: request.priority,
    allowPartial: request.allowPartial,
  };
  if (request.destination !== undefined) planned.destination = request.destination;
  return planned;
}

/**
 * Appends the reservation lines and ledger movements that hold `takes` for one reservation:
 * reserved units when reserving, allocated ones otherwise.
 */
export function holdTakes(
  takes: readonly LotTake[],
  hold: { reservationId: string; reserving: boolean; reason: string; actor: string },
  lines: NewReservationLine[],
  movements: LotMovement[],
): void {
  for (const take of takes) {
    lines.push({
      id: uuidv7(),
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
}
