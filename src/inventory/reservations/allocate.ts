/** Allocate: commit a reservation's stock (whole or in part). Direct allocation without one is serveOrder's 'allocate' mode. */
import type { Transaction } from '../../db/client';
import { lockFor } from '../../db/locks';
import { findReservationLines, type LineChange } from '../../db/reservation-store';
import { commitWrites } from '../../db/writes';
import type { LotMovement } from '../../domain/movement';
import type { StatusChange } from '../../domain/reservation';
import { outboxRows } from '../../events/outbox';
import type { NewEvent, StockLine } from '../../events/schemas';
import type { AllocateReservationInput, ReservationDetail } from '../../schemas/reservations';
import { fillBackorders } from '../backorders/backorders';
import { stockLinesOf } from '../../domain/stock-lines';
import type { UseCaseContext } from './reserve';
import { stockChangeWrites } from '../stock-changes';
import { heldOf } from '../../domain/reservation';
import { assertTransition, assertWithin, loadReservationDetail, lockForChange, productsOf, quantitiesByProduct } from './transitions';

/**
 * RESERVED → ALLOCATED. Without items every held unit is allocated; with items only the named
 * quantities are (taken from the reservation's lots in the order they were reserved) and the rest
 * is released, which may fill waiting backorders. Records InventoryAllocated, and InventoryReleased
 * for a released rest.
 */
export async function allocateReservation(tx: Transaction, input: AllocateReservationInput, ctx: Omit<UseCaseContext, 'config'>): Promise<ReservationDetail> {
  const reservation = await lockForChange(tx, input.reservationId, input.version, ctx.scope);
  assertTransition(reservation, 'ALLOCATED', ctx.now);
  const lines = await findReservationLines(tx, [reservation.id]);
  const wanted = input.items === undefined ? null : quantitiesByProduct(input.items);
  if (wanted !== null)
    assertWithin(reservation.id, wanted, quantitiesByProduct(lines.map((line) => ({ productId: line.productId, quantity: heldOf(line) }))), 'reserved');

  const productIds = productsOf(lines);
  const locks = await lockFor(tx, { products: productIds });
  const movements: LotMovement[] = [];
  const changes: LineChange[] = [];
  let released = 0;
  const allocatedParts: StockLine[] = [];
  const releasedParts: StockLine[] = [];
  for (const line of lines) {
    const held = heldOf(line);
    if (held === 0) continue;
    const left = wanted === null ? held : (wanted.get(line.productId) ?? 0);
    const take = Math.min(held, left);
    wanted?.set(line.productId, left - take);
    const rest = held - take;
    const common = { lotId: line.lotId, referenceType: 'reservation', referenceId: reservation.id, actor: ctx.actor };
    if (take > 0) movements.push({ ...common, type: 'ALLOCATE', reservedDelta: -take, allocatedDelta: take, reason: 'reservation allocated' });
    if (rest > 0) movements.push({ ...common, type: 'RELEASE', reservedDelta: -rest, reason: 'not allocated' });
    changes.push({ id: line.id, allocatedDelta: take, releasedDelta: rest });
    released += rest;
    allocatedParts.push({ productId: line.productId, warehouseId: line.warehouseId, quantity: take });
    releasedParts.push({ productId: line.productId, warehouseId: line.warehouseId, quantity: rest });
  }
  const change: StatusChange = {
    reservationId: reservation.id,
    fromStatus: 'RESERVED',
    toStatus: 'ALLOCATED',
    reason: released > 0 ? `allocated in part; ${released} released` : 'allocated',
    reference: reservation.orderId,
    actor: ctx.actor,
    at: ctx.now,
  };
  const events: NewEvent[] = [
    {
      type: 'InventoryAllocated',
      reservationId: reservation.id,
      allocationId: null,
      orderId: reservation.orderId,
      items: stockLinesOf(allocatedParts),
      timestamp: ctx.now,
    },
  ];
  if (released > 0) {
    events.push({
      type: 'InventoryReleased',
      reservationId: reservation.id,
      orderId: reservation.orderId,
      items: stockLinesOf(releasedParts),
      reason: 'not allocated',
      timestamp: ctx.now,
    });
  }
  await commitWrites(
    tx,
    {
      reservationChanges: [{ id: reservation.id, status: 'ALLOCATED', at: ctx.now }],
      lineChanges: changes,
      statusHistory: [change],
      outbox: outboxRows(events, ctx.now),
    },
    await stockChangeWrites(tx, locks, movements, ctx),
  );
  if (released > 0) await fillBackorders(tx, productIds, ctx.now, ctx.actor);
  return loadReservationDetail(tx, reservation.id, ctx.now, ctx.scope);
}
