/** Backorders: filled on replenishment in priority order, listed, and cancelled. */
import { newId } from '../../ids';
import {
  cancelBackorder as cancelBackorderRow,
  listBackorders as listBackorderRows,
  lockBackorder,
  lockOpenBackorders,
  productsWithOpenBackorders,
} from '../../db/backorder-store';
import type { Queryable, Transaction } from '../../db/client';
import { lockFor } from '../../db/locks';
import { lockFreeReservations } from '../../db/reservation-store';
import { commitWrites } from '../../db/writes';
import { planMany, type PlanRequest } from '../../domain/allocate';
import type { BackorderFill, StoredBackorder } from '../../domain/backorder';
import { canSee, listOwner, type OwnerScope } from '../../domain/ownership';
import { settleFills } from '../../domain/settle';
import { strategyChoice } from '../../domain/strategies';
import { AppError, notFound } from '../../errors';
import { outboxRows } from '../../events/outbox';
import type { Backorder, BackorderPage, ListBackordersQuery } from '../../schemas/backorders';
import { toCandidateLot } from '../stock/lots';
import { stockChangeWrites } from '../stock-changes';

/** The backorder's remainder as a request to plan, or null when its strategy cannot be used as recorded (it then waits for an operator). */
function toPlanRequest(backorder: StoredBackorder): PlanRequest | null {
  const destination =
    backorder.destinationLatitude !== null && backorder.destinationLongitude !== null
      ? { latitude: backorder.destinationLatitude, longitude: backorder.destinationLongitude }
      : undefined;
  const choice = strategyChoice(backorder.strategy, destination);
  if (choice === null) return null;
  const line = {
    productId: backorder.productId,
    quantity: backorder.quantity - backorder.fulfilledQuantity,
    ...(backorder.warehouseId ? { warehouseId: backorder.warehouseId } : {}),
  };
  return { lines: [line], priority: backorder.priority, allowPartial: true, ...choice };
}

/**
 * Fills OPEN backorders of the products from their available stock, highest priority first, then
 * oldest, partially when there is not enough, reserving or allocating as each backorder asks. The
 * units join the backorder's reservation when it is still in the right state and free to change,
 * else a new reservation for the same reference (settleFills). Records BackorderFulfilled per
 * backorder served (its reservationId and lines say where the units went). Call it in the
 * transaction that replenished the stock, after its writes, holding every lot of these products
 * (lockFor): it locks them again to read them as they are now, which takes no new lot lock.
 */
export async function fillBackorders(tx: Transaction, productIds: readonly string[], now: Date, actor: string): Promise<BackorderFill[]> {
  const waiting = await productsWithOpenBackorders(tx, [...new Set(productIds)]);
  if (waiting.length === 0) return [];
  const locks = await lockFor(tx, { servingProducts: waiting });
  const fillable = (await lockOpenBackorders(tx, waiting)).flatMap((backorder) => {
    const request = toPlanRequest(backorder);
    return request === null ? [] : [{ backorder, request }];
  });
  const backorders = fillable.map(({ backorder }) => backorder);
  const plans = planMany(
    fillable.map(({ request }) => request),
    locks.lots.map(toCandidateLot),
    now,
  );

  const linked = new Set<string>();
  backorders.forEach((backorder, index) => {
    if (plans[index]!.takes.length > 0 && backorder.reservationId !== null) linked.add(backorder.reservationId);
  });
  const free = new Map((await lockFreeReservations(tx, [...linked])).map((reservation) => [reservation.id, reservation]));

  const settled = settleFills(backorders, plans, free, now, actor, newId);
  await commitWrites(
    tx,
    {
      reservations: settled.reservations,
      reservationChanges: settled.joined.map((id) => ({ id, at: now })),
      reservationLines: settled.lines,
      statusHistory: settled.history,
      backorderFills: settled.fills.map((fill) => ({ ...fill, at: now })),
      outbox: outboxRows(settled.events, now),
    },
    await stockChangeWrites(tx, locks, settled.movements, { now }),
  );
  return settled.fills;
}

/** A stored backorder as the API shows it. */
export function toBackorder(row: StoredBackorder): Backorder {
  return {
    id: row.id,
    owner: row.owner,
    productId: row.productId,
    warehouseId: row.warehouseId,
    quantity: row.quantity,
    fulfilledQuantity: row.fulfilledQuantity,
    status: row.status,
    mode: row.mode,
    priority: row.priority,
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

/**
 * One page of the backorders the scope sees matching every filter given, highest priority then
 * oldest first; `nextCursor` continues after it.
 */
export async function findBackorders(db: Queryable, query: ListBackordersQuery, scope: OwnerScope): Promise<BackorderPage> {
  const { owner: requested, status, priority, orderId, referenceId, cursor, offset, limit, ...filters } = query;
  const owner = listOwner(scope, requested);
  if (owner === null) return { items: [], limit, offset: offset ?? 0, nextCursor: null };
  const rows = await listBackorderRows(db, {
    ...filters,
    ...(owner === undefined ? {} : { owner }),
    statuses: status,
    priorities: priority,
    referenceId: orderId ?? referenceId,
    after: cursor,
    offset,
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  return { items: page.map(toBackorder), limit, offset: offset ?? 0, nextCursor: rows.length > limit ? page.at(-1)!.id : null };
}

/** Cancels an OPEN backorder the scope sees; 404 when unknown or another owner's, 409 when it is no longer open. */
export async function cancelBackorder(tx: Transaction, id: string, now: Date, scope: OwnerScope): Promise<Backorder> {
  const backorder = await lockBackorder(tx, id);
  if (backorder === undefined || !canSee(scope, backorder.owner)) throw notFound('Backorder', id);
  if (backorder.status !== 'OPEN') {
    throw new AppError('INVALID_TRANSITION', `Backorder ${id} is ${backorder.status}; only an OPEN backorder can be cancelled`, {
      backorderId: id,
      status: backorder.status,
    });
  }
  return toBackorder(await cancelBackorderRow(tx, id, now));
}
