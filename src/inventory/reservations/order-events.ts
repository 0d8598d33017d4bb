/** What the events of the order service do to stock: OrderCreated reserves, OrderCancelled releases, OrderCompleted and OrderPaid allocate, OrderDelivered ships. */
import { cancelOpenBackordersOfOrder, findBackordersOfOrder } from '../../db/backorder-store';
import type { Transaction } from '../../db/client';
import { recordOrderCancellation } from '../../db/consistency-store';
import { lockAggregates } from '../../db/outbox-store';
import { lockFor } from '../../db/locks';
import { findReservationLines, findReservationsOfOrder, lockReservationsOfOrder } from '../../db/reservation-store';
import { AppError } from '../../errors';
import type { OrderCreatedEvent, OrderEvent } from '../../events/schemas';
import { allocateReservation } from './allocate';
import { releaseReservation } from './release';
import { reserveStock, type UseCaseContext } from './reserve';
import { shipReservation } from './ship';
import { productsOf } from './transitions';
import { effectiveStatus } from '../../domain/reservation';

/** What an order event did, for the log. */
export type OrderEventResult =
  | { action: 'reserved'; reservationId: string | null; backorders: number }
  | { action: 'released'; reservationIds: string[]; backordersCancelled: number }
  | { action: 'allocated'; reservationIds: string[] }
  | { action: 'shipped'; reservationIds: string[] }
  | { action: 'nothing'; why: string };

/**
 * Applies one order event in the caller's transaction (which also records it as processed), for the
 * owner of `ctx.scope`: the order is that owner's, and another owner's order of the same id is never touched.
 */
export async function applyOrderEvent(tx: Transaction, event: OrderEvent, ctx: UseCaseContext): Promise<OrderEventResult> {
  // one order's events take effect one at a time, whichever consumer runs them
  await lockAggregates(tx, [`order:${ctx.scope.owner}:${event.orderId}`]);
  switch (event.type) {
    case 'OrderCreated':
      return reserveForOrder(tx, event, ctx);
    case 'OrderCancelled':
      // kept so the consistency check can tell a hold made for the order after its cancellation
      await recordOrderCancellation(tx, { owner: ctx.scope.owner, orderId: event.orderId, eventId: event.eventId, at: ctx.now });
      return releaseOrder(tx, event.orderId, event.reason ?? 'order cancelled', ctx);
    case 'OrderCompleted':
    case 'OrderPaid':
      return allocateOrder(tx, event.orderId, ctx);
    case 'OrderDelivered':
      return shipOrder(tx, event.orderId, ctx);
  }
}

/**
 * Reserves the order's lines as POST /inventory/reserve would. An order that already holds stock or
 * waits for it (reserved through the API, or an OrderCreated sent again under a new eventId) is
 * left as it is, so an order is never served twice.
 */
async function reserveForOrder(tx: Transaction, event: OrderCreatedEvent, ctx: UseCaseContext): Promise<OrderEventResult> {
  const { owner } = ctx.scope;
  const [reservations, backorders] = await Promise.all([findReservationsOfOrder(tx, owner, event.orderId), findBackordersOfOrder(tx, owner, event.orderId)]);
  if (reservations.length > 0 || backorders.length > 0) return { action: 'nothing', why: `order ${event.orderId} already has stock reserved or backordered` };
  const { answer } = await reserveStock(
    tx,
    {
      orderId: event.orderId,
      items: event.items,
      strategy: event.strategy,
      allowPartial: event.allowPartial,
      allowBackorder: event.allowBackorder,
      priority: event.priority,
      ...(event.customerId === undefined ? {} : { customerId: event.customerId }),
      ...(event.destination === undefined ? {} : { destination: event.destination }),
      ...(event.timeoutMinutes === undefined ? {} : { timeoutMinutes: event.timeoutMinutes }),
    },
    ctx,
  );
  return { action: 'reserved', reservationId: answer.reservationId, backorders: answer.backorders.length };
}

/**
 * Locks every lot of the products the reservations hold, in id order, before any of them changes:
 * each change then locks again only lots this transaction holds, so an order of several
 * reservations takes its locks in the one order every transaction does.
 */
async function lockLotsOf(tx: Transaction, reservations: readonly { id: string }[]): Promise<void> {
  if (reservations.length === 0) return;
  await lockFor(tx, {
    products: productsOf(
      await findReservationLines(
        tx,
        reservations.map((reservation) => reservation.id),
      ),
    ),
  });
}

/**
 * Releases every RESERVED reservation of the order and cancels its open backorders. Nothing to do
 * when all its holds were already released or expired; refused (409) when its stock is already
 * allocated; NOT_FOUND when the order has nothing at all (its OrderCreated may not have arrived yet).
 */
async function releaseOrder(tx: Transaction, orderId: string, reason: string, ctx: UseCaseContext): Promise<OrderEventResult> {
  const reservations = await lockReservationsOfOrder(tx, ctx.scope.owner, orderId);
  const open = reservations.filter((reservation) => effectiveStatus(reservation, ctx.now) === 'RESERVED');
  await lockLotsOf(tx, open);
  for (const reservation of open) await releaseReservation(tx, { reservationId: reservation.id, reason }, ctx);
  const cancelled = await cancelOpenBackordersOfOrder(tx, ctx.scope.owner, orderId, ctx.now);
  if (open.length > 0 || cancelled.length > 0)
    return { action: 'released', reservationIds: open.map((reservation) => reservation.id), backordersCancelled: cancelled.length };
  if (reservations.length === 0) throw new AppError('NOT_FOUND', `Order ${orderId} has no reservation or backorder to release`, { orderId });
  const committed = reservations.filter((reservation) => reservation.status === 'ALLOCATED' || reservation.status === 'FULFILLED');
  if (committed.length > 0) {
    throw new AppError('INVALID_TRANSITION', `Order ${orderId} has allocated stock; an allocation is not released by a cancellation`, {
      orderId,
      reservationIds: committed.map((reservation) => reservation.id),
    });
  }
  return { action: 'nothing', why: `order ${orderId} holds nothing any more` };
}

/**
 * Allocates every RESERVED reservation of the order in full. Nothing to do when its stock is
 * already allocated; refused (409) when its holds were released or expired; NOT_FOUND when the
 * order has no reservation yet.
 */
async function allocateOrder(tx: Transaction, orderId: string, ctx: UseCaseContext): Promise<OrderEventResult> {
  const reservations = await lockReservationsOfOrder(tx, ctx.scope.owner, orderId);
  if (reservations.length === 0) throw new AppError('NOT_FOUND', `Order ${orderId} has no reservation to allocate`, { orderId });
  const open = reservations.filter((reservation) => effectiveStatus(reservation, ctx.now) === 'RESERVED');
  await lockLotsOf(tx, open);
  for (const reservation of open) await allocateReservation(tx, { reservationId: reservation.id }, ctx);
  if (open.length > 0) return { action: 'allocated', reservationIds: open.map((reservation) => reservation.id) };
  if (reservations.some((reservation) => reservation.status === 'ALLOCATED' || reservation.status === 'FULFILLED')) {
    return { action: 'nothing', why: `order ${orderId} is already allocated` };
  }
  throw new AppError('INVALID_TRANSITION', `Order ${orderId} holds no stock to allocate: its reservations were released or expired`, {
    orderId,
    reservationIds: reservations.map((reservation) => reservation.id),
  });
}

/**
 * Ships everything the order's ALLOCATED reservations have not shipped (they become FULFILLED),
 * locking every lot of their products first, in id order. Nothing to do when the order is already
 * fulfilled; refused (409) when nothing of it is allocated (its OrderPaid or OrderCompleted has not
 * been applied, or its holds ended); NOT_FOUND when the order has no reservation yet.
 */
async function shipOrder(tx: Transaction, orderId: string, ctx: UseCaseContext): Promise<OrderEventResult> {
  const reservations = await lockReservationsOfOrder(tx, ctx.scope.owner, orderId);
  if (reservations.length === 0) throw new AppError('NOT_FOUND', `Order ${orderId} has no reservation to ship`, { orderId });
  const allocated = reservations.filter((reservation) => reservation.status === 'ALLOCATED');
  if (allocated.length > 0) {
    const ids = allocated.map((reservation) => reservation.id);
    await lockLotsOf(tx, allocated);
    for (const id of ids) await shipReservation(tx, { reservationId: id }, ctx);
    return { action: 'shipped', reservationIds: ids };
  }
  if (reservations.some((reservation) => reservation.status === 'FULFILLED')) return { action: 'nothing', why: `order ${orderId} is already shipped` };
  throw new AppError('INVALID_TRANSITION', `Order ${orderId} has no allocated stock to ship: it is not paid, or its holds were released or expired`, {
    orderId,
    reservationIds: reservations.map((reservation) => reservation.id),
  });
}
