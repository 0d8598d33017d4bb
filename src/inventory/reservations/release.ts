/** Release a reservation: its held stock becomes available again, and waiting backorders get their turn. */
import { cancelBackordersOfReservations } from '../../db/backorder-store';
import { runTogether, type Transaction } from '../../db/client';
import { lockAllLotsOfProducts } from '../../db/lot-store';
import { findReservationLines, statusHistoryInsert, updateReservationLines, updateReservations } from '../../db/reservation-store';
import { recordEvents } from '../../events/outbox';
import type { ReleaseInput, ReservationDetail } from '../../schemas/reservations';
import { fillBackorders } from '../backorders/backorders';
import { stockLinesOf } from '../../domain/stock-lines';
import type { UseCaseContext } from './reserve';
import { applyStockChanges } from '../stock-changes';
import { assertTransition, heldOf, loadReservationDetail, lockForChange, productsOf, releaseHeld } from './transitions';

/** RESERVED → RELEASED: every held unit goes back (RELEASE movements, InventoryReleased), the reservation's open backorders are cancelled. */
export async function releaseReservation(tx: Transaction, input: ReleaseInput, ctx: Omit<UseCaseContext, 'config'>): Promise<ReservationDetail> {
  const reservation = await lockForChange(tx, input.reservationId, input.version);
  assertTransition(reservation, 'RELEASED', ctx.now);
  const lines = await findReservationLines(tx, [reservation.id]);
  const productIds = productsOf(lines);
  await lockAllLotsOfProducts(tx, productIds);
  const reason = input.reason ?? 'released';
  const { movements, changes } = releaseHeld(lines, { type: 'RELEASE', reason, actor: ctx.actor });
  await applyStockChanges(tx, movements, ctx);
  await updateReservationLines(tx, changes);
  await updateReservations(tx, [{ id: reservation.id, status: 'RELEASED' }], ctx.now);
  await recordEvents(tx, [
    {
      type: 'InventoryReleased',
      reservationId: reservation.id,
      orderId: reservation.orderId,
      items: stockLinesOf(lines.map((line) => ({ ...line, quantity: heldOf(line) }))),
      reason,
      timestamp: ctx.now,
    },
  ]);
  await runTogether(tx, [
    statusHistoryInsert([
      { reservationId: reservation.id, fromStatus: 'RESERVED', toStatus: 'RELEASED', reason, reference: reservation.orderId, actor: ctx.actor, at: ctx.now },
    ]),
  ]);
  await cancelBackordersOfReservations(tx, [reservation.id], ctx.now);
  await fillBackorders(tx, productIds, ctx.now, ctx.actor);
  return loadReservationDetail(tx, reservation.id, ctx.now);
}
