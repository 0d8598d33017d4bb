/** Release a reservation: its held stock becomes available again, and waiting backorders get their turn. */
import { cancelBackordersOfReservations } from '../../db/backorder-store';
import type { Transaction } from '../../db/client';
import { lockFor } from '../../db/locks';
import { findReservationLines } from '../../db/reservation-store';
import { commitWrites } from '../../db/writes';
import { outboxRows } from '../../events/outbox';
import type { ReleaseInput, ReservationDetail } from '../../schemas/reservations';
import { fillBackorders } from '../backorders/backorders';
import { stockLinesOf } from '../../domain/stock-lines';
import type { UseCaseContext } from './reserve';
import { stockChangeWrites } from '../stock-changes';
import { heldOf } from '../../domain/reservation';
import { assertTransition, loadReservationDetail, lockForChange, productsOf, releaseHeld } from './transitions';

/** RESERVED → RELEASED: every held unit goes back (RELEASE movements, InventoryReleased), the reservation's open backorders are cancelled. */
export async function releaseReservation(tx: Transaction, input: ReleaseInput, ctx: Omit<UseCaseContext, 'config'>): Promise<ReservationDetail> {
  const reservation = await lockForChange(tx, input.reservationId, input.version, ctx.scope);
  assertTransition(reservation, 'RELEASED', ctx.now);
  const lines = await findReservationLines(tx, [reservation.id]);
  const productIds = productsOf(lines);
  const locks = await lockFor(tx, { products: productIds });
  const reason = input.reason ?? 'released';
  const { movements, changes } = releaseHeld(lines, { type: 'RELEASE', reason, actor: ctx.actor });
  await commitWrites(
    tx,
    {
      reservationChanges: [{ id: reservation.id, status: 'RELEASED', at: ctx.now }],
      lineChanges: changes,
      statusHistory: [
        { reservationId: reservation.id, fromStatus: 'RESERVED', toStatus: 'RELEASED', reason, reference: reservation.orderId, actor: ctx.actor, at: ctx.now },
      ],
      outbox: outboxRows(
        [
          {
            type: 'InventoryReleased',
            reservationId: reservation.id,
            orderId: reservation.orderId,
            items: stockLinesOf(lines.map((line) => ({ ...line, quantity: heldOf(line) }))),
            reason,
            timestamp: ctx.now,
          },
        ],
        ctx.now,
      ),
    },
    await stockChangeWrites(tx, locks, movements, ctx),
  );
  await cancelBackordersOfReservations(tx, [reservation.id], ctx.now);
  await fillBackorders(tx, productIds, ctx.now, ctx.actor);
  return loadReservationDetail(tx, reservation.id, ctx.now, ctx.scope);
}
