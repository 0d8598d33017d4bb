/** Ship: allocated stock leaves the warehouse. */
import type { Transaction } from '../../db/client';
import { lockFor } from '../../db/locks';
import { findReservationLines, type LineChange } from '../../db/reservation-store';
import { commitWrites } from '../../db/writes';
import type { LotMovement } from '../../domain/movement';
import type { ReservationDetail, ShipInput } from '../../schemas/reservations';
import type { UseCaseContext } from './reserve';
import { stockChangeWrites } from '../stock-changes';
import { assertTransition, assertWithin, loadReservationDetail, lockForChange, quantitiesByProduct } from './transitions';

/**
 * Ships all allocated units not yet shipped, or the named quantities: on hand and allocated go down
 * (SHIP movements). ALLOCATED → FULFILLED once every allocated unit has shipped.
 */
export async function shipReservation(tx: Transaction, input: ShipInput, ctx: Omit<UseCaseContext, 'config'>): Promise<ReservationDetail> {
  const reservation = await lockForChange(tx, input.reservationId, input.version, ctx.scope);
  assertTransition(reservation, 'FULFILLED', ctx.now);
  const lines = await findReservationLines(tx, [reservation.id]);
  const unshipped = (line: { allocatedQuantity: number; shippedQuantity: number }) => line.allocatedQuantity - line.shippedQuantity;
  const wanted = input.items === undefined ? null : quantitiesByProduct(input.items);
  if (wanted !== null)
    assertWithin(
      reservation.id,
      wanted,
      quantitiesByProduct(lines.map((line) => ({ productId: line.productId, quantity: unshipped(line) }))),
      'allocated and not shipped',
    );

  const shipping = lines.filter((line) => unshipped(line) > 0);
  const locks = await lockFor(tx, { lotIds: shipping.map((line) => line.lotId) });
  const movements: LotMovement[] = [];
  const changes: LineChange[] = [];
  let left = 0;
  for (const line of shipping) {
    const open = unshipped(line);
    const want = wanted === null ? open : (wanted.get(line.productId) ?? 0);
    const ship = Math.min(open, want);
    wanted?.set(line.productId, want - ship);
    left += open - ship;
    if (ship === 0) continue;
    movements.push({
      lotId: line.lotId,
      type: 'SHIP',
      quantityDelta: -ship,
      allocatedDelta: -ship,
      reason: 'shipped',
      referenceType: 'reservation',
      referenceId: reservation.id,
      actor: ctx.actor,
    });
    changes.push({ id: line.id, shippedDelta: ship });
  }
  const fulfilled = left === 0;
  await commitWrites(
    tx,
    {
      reservationChanges: [{ id: reservation.id, ...(fulfilled ? { status: 'FULFILLED' as const } : {}), at: ctx.now }],
      lineChanges: changes,
      statusHistory: fulfilled
        ? [
            {
              reservationId: reservation.id,
              fromStatus: 'ALLOCATED',
              toStatus: 'FULFILLED',
              reason: 'shipped',
              reference: reservation.orderId,
              actor: ctx.actor,
              at: ctx.now,
            },
          ]
        : [],
    },
    await stockChangeWrites(tx, locks, movements, ctx),
  );
  return loadReservationDetail(tx, reservation.id, ctx.now, ctx.scope);
}
