/** Expiry: RESERVED holds whose time ran out give their stock back. */
import type { Pool } from 'pg';
import { cancelBackordersOfReservations } from '../../db/backorder-store';
import { withTransaction, type Transaction } from '../../db/client';
import { lockFor, type LotSelection } from '../../db/locks';
import { claimExpiredReservations, findReservationLines, type ReservationRow } from '../../db/reservation-store';
import { commitWrites } from '../../db/writes';
import { outboxRows } from '../../events/outbox';
import { reservationsExpired } from '../../metrics';
import { fillBackorders } from '../backorders/backorders';
import { stockLinesOf } from '../../domain/stock-lines';
import { stockChangeWrites } from '../stock-changes';
import { heldOf } from '../../domain/reservation';
import { productsOf, releaseHeld } from './transitions';

/** Who expires holds: the sweeper, the allocation engine in line (before it plans on their lots), or an admin's consistency fix. */
export type Expirer = 'sweeper' | 'in_line' | 'consistency_fix';

const actorOf: Record<Expirer, string> = { sweeper: 'expiry-sweeper', in_line: 'expiry-in-line', consistency_fix: 'consistency-fix' };

/**
 * Expires reservations the caller claimed (RESERVED, their hold ended by `now`, locked) in its
 * transaction: stock back (EXPIRE movements), status EXPIRED with history, open backorders of the
 * reservations cancelled, ReservationExpired recorded, then waiting backorders of their products
 * filled. `lots` chooses the lots locked for it: the sweeper takes every lot of the products; the
 * engine names only lots it already holds. The one way a hold expires, for the sweeper and in line.
 */
export async function expireHolds(
  tx: Transaction,
  reservations: readonly ReservationRow[],
  how: { now: Date; by: Expirer; lots: 'products' | 'held' },
): Promise<void> {
  if (reservations.length === 0) return;
  const { now } = how;
  const actor = actorOf[how.by];
  const ids = reservations.map((reservation) => reservation.id);
  const lines = await findReservationLines(tx, ids);
  const productIds = productsOf(lines);
  const selection: LotSelection =
    how.lots === 'products' ? { products: productIds } : { lotIds: lines.filter((line) => heldOf(line) > 0).map((line) => line.lotId) };
  const locks = await lockFor(tx, selection);
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
  reservationsExpired.inc({ by: how.by }, reservations.length);
}

/**
 * Expires every RESERVED reservation whose hold ended by `now`, `batchSize` per transaction, until
 * none is left (expireHolds). Claims with SKIP LOCKED, so sweepers running at once, and engines
 * expiring in line, never expire one reservation twice. Returns how many it expired.
 */
export async function expireReservations(pool: Pool, options: { now: Date; batchSize: number }): Promise<number> {
  const { now, batchSize } = options;
  let expired = 0;
  for (;;) {
    const claimed = await withTransaction(pool, async (tx) => {
      const reservations = await claimExpiredReservations(tx, now, batchSize);
      await expireHolds(tx, reservations, { now, by: 'sweeper', lots: 'products' });
      return reservations.length;
    });
    expired += claimed;
    if (claimed < batchSize) return expired;
  }
}
