/** Expiry: RESERVED holds whose time ran out give their stock back. */
import type { Pool } from 'pg';
import { cancelBackordersOfReservations } from '../../db/backorder-store';
import { withTransaction } from '../../db/client';
import { lockFor } from '../../db/locks';
import { claimExpiredReservations, findReservationLines } from '../../db/reservation-store';
import { commitWrites } from '../../db/writes';
import { outboxRows } from '../../events/outbox';
import { fillBackorders } from '../backorders/backorders';
import { stockLinesOf } from '../../domain/stock-lines';
import { stockChangeWrites } from '../stock-changes';
import { heldOf, productsOf, releaseHeld } from './transitions';

/**
 * Expires every RESERVED reservation whose hold ended by `now`, `batchSize` per transaction, until
 * none is left: stock back (EXPIRE movements), status EXPIRED with history, open backorders of the
 * reservation cancelled, ReservationExpired recorded, then waiting backorders of the products filled. Claims with SKIP LOCKED,
 * so sweepers running at once never expire one reservation twice. Returns how many it expired.
 */
export async function expireReservations(pool: Pool, options: { now: Date; batchSize: number; actor?: string }): Promise<number> {
  const { now, batchSize } = options;
  const actor = options.actor ?? 'expiry-sweeper';
  let expired = 0;
  for (;;) {
    const claimed = await withTransaction(pool, async (tx) => {
      const reservations = await claimExpiredReservations(tx, now, batchSize);
      if (reservations.length === 0) return 0;
      const ids = reservations.map((reservation) => reservation.id);
      const lines = await findReservationLines(tx, ids);
      const productIds = productsOf(lines);
      const locks = await lockFor(tx, { products: productIds });
      const { movements, changes } = releaseHeld(lines, { type: 'EXPIRE', reason: 'hold expired', actor });
      await commitWrites(
        tx,
        {
          reservationChanges: ids.map((id) => ({ id, status: 'EXPIRED' as const, at: now })),
          lineChanges: changes,
          statusHistory: reservations.map((reservation) => ({
            reservationId: reservation.id,
            fromStatus: 'RESERVED' as const,
            toStatus: 'EXPIRED' as const,
            reason: `hold expired at ${reservation.expiresAt.toISOString()}`,
            reference: reservation.orderId,
            actor,
            at: now,
          })),
          outbox: outboxRows(
            reservations.map((reservation) => ({
              type: 'ReservationExpired' as const,
              reservationId: reservation.id,
              orderId: reservation.orderId,
              items: stockLinesOf(lines.filter((line) => line.reservationId === reservation.id).map((line) => ({ ...line, quantity: heldOf(line) }))),
              expiresAt: reservation.expiresAt,
              timestamp: now,
            })),
            now,
          ),
        },
        await stockChangeWrites(tx, locks, movements, { now }),
      );
      await cancelBackordersOfReservations(tx, ids, now);
      await fillBackorders(tx, productIds, now, actor);
      return reservations.length;
    });
    expired += claimed;
    if (claimed < batchSize) return expired;
  }
}
