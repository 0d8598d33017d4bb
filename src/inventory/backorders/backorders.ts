/** Backorders: filled on replenishment in priority order, listed, and cancelled. */
import { v7 as uuidv7 } from 'uuid';
import {
  cancelBackorder as cancelBackorderRow,
  listBackorders as listBackorderRows,
  lockBackorder,
  lockOpenBackorders,
  productsWithOpenBackorders,
  recordBackorderFills,
  type BackorderRow,
} from '../../db/backorder-store';
import { runTogether, type Queryable, type Transaction } from '../../db/client';
import { lockLotsOfProducts, type LotMovement } from '../../db/lot-store';
import {
  lockFreeReservations,
  reservationLinesInsert,
  reservationsInsert,
  statusHistoryInsert,
  updateReservations,
  type NewReservation,
  type NewReservationLine,
  type StatusChange,
} from '../../db/reservation-store';
import { planMany, type PlanRequest } from '../../domain/allocate';
import { effectiveStatus } from '../../domain/reservation';
import { priorities, priorityWeight, type Priority } from '../../domain/strategies';
import { AppError, notFound } from '../../errors';
import { recordEvents } from '../../events/outbox';
import type { NewEvent } from '../../events/schemas';
import type { Backorder, BackorderPage, ListBackordersQuery } from '../../schemas/backorders';
import { holdTakes } from '../engine';
import { stockLinesOf } from '../../domain/stock-lines';
import { applyStockChanges } from '../stock-changes';
import { toCandidateLot } from '../reservations/views';

/** Units given to one backorder by one fill. */
export type BackorderFill = { backorderId: string; productId: string; reservationId: string; quantity: number; fulfilled: boolean };

const MINUTE_MS = 60_000;

/** The name of a stored priority weight: the highest priority whose weight it reaches. */
export function priorityOfWeight(weight: number): Priority {
  return [...priorities].reverse().find((priority) => priorityWeight[priority] <= weight) ?? 'low';
}

function toPlanRequest(backorder: BackorderRow): PlanRequest {
  const planned: PlanRequest = {
    lines: [
      {
        productId: backorder.productId,
        quantity: backorder.quantity - backorder.fulfilledQuantity,
        ...(backorder.warehouseId ? { warehouseId: backorder.warehouseId } : {}),
      },
    ],
    strategy: backorder.strategy,
    priority: priorityOfWeight(backorder.priority),
    allowPartial: true,
  };
  if (backorder.destinationLatitude !== null && backorder.destinationLongitude !== null) {
    planned.destination = { latitude: backorder.destinationLatitude, longitude: backorder.destinationLongitude };
  }
  return planned;
}

/**
 * Fills OPEN backorders of the products from their available stock, highest priority first, then
 * oldest, partially when there is not enough, reserving or allocating as each backorder asks. The
 * units join the backorder's reservation when it is still in the right state and free to change,
 * else a new reservation for the same reference. Records BackorderFulfilled per backorder served
 * (its reservationId and lines say where the units went). Call it in the transaction that
 * replenished the stock, after locking the lots of these products.
 */
export async function fillBackorders(tx: Transaction, productIds: readonly string[], now: Date, actor: string): Promise<BackorderFill[]> {
  const waiting = await productsWithOpenBackorders(tx, [...new Set(productIds)]);
  if (waiting.length === 0) return [];
  const lots = await lockLotsOfProducts(tx, waiting);
  // nearest_location cannot order lots without a destination; such a backorder waits for an operator
  const backorders = (await lockOpenBackorders(tx, waiting)).filter(
    (backorder) => backorder.strategy !== 'nearest_location' || backorder.destinationLatitude !== null,
  );
  const plans = planMany(backorders.map(toPlanRequest), lots.map(toCandidateLot), now);

  const linked = new Set<string>();
  backorders.forEach((backorder, index) => {
    if (plans[index]!.takes.length > 0 && backorder.reservationId !== null) linked.add(backorder.reservationId);
  });
  const free = new Map((await lockFreeReservations(tx, [...linked])).map((reservation) => [reservation.id, reservation]));

  const created = new Map<string, NewReservation>();
  const touched = new Set<string>();
  const lines: NewReservationLine[] = [];
  const history: StatusChange[] = [];
  const movements: LotMovement[] = [];
  const fills: BackorderFill[] = [];
  const events: NewEvent[] = [];

  backorders.forEach((backorder, index) => {
    const { takes } = plans[index]!;
    if (takes.length === 0) return;
    const reserving = backorder.mode === 'reserve';
    const status = reserving ? 'RESERVED' : 'ALLOCATED';
    const target = backorder.reservationId === null ? undefined : free.get(backorder.reservationId);
    let reservationId: string;
    if (target !== undefined && effectiveStatus(target, now) === status) {
      reservationId = target.id;
      touched.add(reservationId);
    } else {
      // backorders of one request (same reference, mode and original reservation) share one new reservation
      const group = [backorder.mode, backorder.referenceType, backorder.referenceId, backorder.reservationId, backorder.customerId].join('\u0000');
      let reservation = created.get(group);
      if (reservation === undefined) {
        reservation = {
          id: uuidv7(),
          orderId: backorder.referenceId ?? backorder.id,
          customerId: backorder.customerId,
          status,
          priority: priorityOfWeight(backorder.priority),
          strategy: backorder.strategy,
          expiresAt: new Date(now.getTime() + backorder.reservationMinutes * MINUTE_MS),
          createdAt: now,
        };
        created.set(group, reservation);
        history.push({
          reservationId: reservation.id,
          fromStatus: null,
          toStatus: status,
          reason: 'backorder filled',
          reference: reservation.orderId,
          actor,
          at: now,
        });
      }
      reservationId = reservation.id;
    }
    const quantity = takes.reduce((sum, take) => sum + take.quantity, 0);
    holdTakes(takes, { reservationId, reserving, reason: `backorder ${backorder.id}`, actor }, lines, movements);
    const fulfilledQuantity = backorder.fulfilledQuantity + quantity;
    fills.push({ backorderId: backorder.id, productId: backorder.productId, reservationId, quantity, fulfilled: fulfilledQuantity === backorder.quantity });
    events.push({
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
      status: fulfilledQuantity === backorder.quantity ? 'FULFILLED' : 'OPEN',
      items: stockLinesOf(takes),
      timestamp: now,
    });
  });

  await updateReservations(
    tx,
    [...touched].map((id) => ({ id })),
    now,
  );
  await runTogether(tx, [reservationsInsert([...created.values()]), reservationLinesInsert(lines), statusHistoryInsert(history)]);
  await applyStockChanges(tx, movements, { now });
  await recordBackorderFills(
    tx,
    fills.map((fill) => ({ id: fill.backorderId, quantity: fill.quantity, reservationId: fill.reservationId })),
    now,
  );
  await recordEvents(tx, events);
  return fills;
}

/** A stored backorder as the API shows it. */
export function toBackorder(row: BackorderRow): Backorder {
  return {
    id: row.id,
    productId: row.productId,
    warehouseId: row.warehouseId,
    quantity: row.quantity,
    fulfilledQuantity: row.fulfilledQuantity,
    status: row.status,
    mode: row.mode,
    priority: priorityOfWeight(row.priority),
    strategy: row.strategy,
    reservationId: row.reservationId,
    allocationId: row.allocationId,
    referenceType: row.referenceType,
    referenceId: row.referenceId,
    customerId: row.customerId,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** One page of the backorders matching every filter given, highest priority then oldest first; `nextCursor` continues after it. */
export async function findBackorders(db: Queryable, query: ListBackordersQuery): Promise<BackorderPage> {
  const { status, orderId, referenceId, cursor, offset, limit, ...filters } = query;
  const rows = await listBackorderRows(db, {
    ...filters,
    statuses: status,
    referenceId: orderId ?? referenceId,
    after: cursor,
    offset,
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  return { items: page.map(toBackorder), limit, offset: offset ?? 0, nextCursor: rows.length > limit ? page.at(-1)!.id : null };
}

/** Cancels an OPEN backorder; 404 when unknown, 409 when it is no longer open. */
export async function cancelBackorder(tx: Transaction, id: string, now: Date): Promise<Backorder> {
  const backorder = await lockBackorder(tx, id);
  if (backorder === undefined) throw notFound('Backorder', id);
  if (backorder.status !== 'OPEN') {
    throw new AppError('INVALID_TRANSITION', `Backorder ${id} is ${backorder.status}; only an OPEN backorder can be cancelled`, {
      backorderId: id,
      status: backorder.status,
    });
  }
  return toBackorder(await cancelBackorderRow(tx, id, now));
}
