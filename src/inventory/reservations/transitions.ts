/** What every change of an existing reservation shares: the lock, the version and status checks, and releasing held units. */
import type { Queryable, Transaction } from '../../db/client';
import type { LotMovement } from '../../domain/movement';
import {
  findReservation,
  findReservationLines,
  findStatusHistory,
  lockReservation,
  type LineChange,
  type ReservationLineRow,
  type ReservationRow,
} from '../../db/reservation-store';
import { canSee, type OwnerScope } from '../../domain/ownership';
import { checkTransition, effectiveStatus, heldOf, type ReservationStatus } from '../../domain/reservation';
import { AppError, notFound } from '../../errors';
import type { ReservationDetail } from '../../schemas/reservations';
import { reservationDetail } from './views';

/** Refuses with 409 INVALID_TRANSITION, naming the current status, unless `to` may follow it. */
export function assertTransition(reservation: ReservationRow, to: ReservationStatus, now: Date): void {
  const status = effectiveStatus(reservation, now);
  const refusal = checkTransition(status, to);
  if (refusal === null) return;
  const lapsed = status !== reservation.status ? ` (its hold ended at ${reservation.expiresAt.toISOString()})` : '';
  throw new AppError('INVALID_TRANSITION', `${refusal.message}${lapsed}`, { reservationId: reservation.id, status, requested: to });
}

/**
 * Locks the reservation; 404 when it does not exist or the scope may not see it (another owner's),
 * 409 VERSION_CONFLICT when the caller's version is stale.
 */
export async function lockForChange(tx: Transaction, reservationId: string, version: number | undefined, scope: OwnerScope): Promise<ReservationRow> {
  const reservation = await lockReservation(tx, reservationId);
  if (reservation === undefined || !canSee(scope, reservation.owner)) throw notFound('Reservation', reservationId);
  if (version !== undefined && version !== reservation.version) {
    throw new AppError('VERSION_CONFLICT', `Reservation ${reservationId} is at version ${reservation.version}, not ${version}`, {
      reservationId,
      currentVersion: reservation.version,
    });
  }
  return reservation;
}

/** Movements and line changes that give back every unit the lines still hold as reserved. */
export function releaseHeld(
  lines: readonly ReservationLineRow[],
  how: { type: 'RELEASE' | 'EXPIRE'; reason: string; actor: string },
): { movements: LotMovement[]; changes: LineChange[] } {
  const movements: LotMovement[] = [];
  const changes: LineChange[] = [];
  for (const line of lines) {
    const held = heldOf(line);
    if (held === 0) continue;
    movements.push({
      lotId: line.lotId,
      type: how.type,
      reservedDelta: -held,
      reason: how.reason,
      referenceType: 'reservation',
      referenceId: line.reservationId,
      actor: how.actor,
    });
    changes.push({ id: line.id, releasedDelta: held });
  }
  return { movements, changes };
}

/** Sums quantities per product, for callers that name a product more than once. */
export function quantitiesByProduct(items: readonly { productId: string; quantity: number }[]): Map<string, number> {
  const wanted = new Map<string, number>();
  for (const item of items) wanted.set(item.productId, (wanted.get(item.productId) ?? 0) + item.quantity);
  return wanted;
}

/** Refuses (409) a request for more of a product than the reservation has in the given state. */
export function assertWithin(reservationId: string, wanted: ReadonlyMap<string, number>, has: ReadonlyMap<string, number>, what: string): void {
  for (const [productId, quantity] of wanted) {
    const available = has.get(productId) ?? 0;
    if (quantity > available) {
      throw new AppError('CONFLICT', `Reservation ${reservationId} has ${available} of ${productId} ${what}; ${quantity} requested`, {
        reservationId,
        productId,
        requested: quantity,
        available,
      });
    }
  }
}

/** The distinct products of the lines. */
export function productsOf(lines: readonly { productId: string }[]): string[] {
  return [...new Set(lines.map((line) => line.productId))];
}

/** A reservation with its lines and history as it reads at `now` (a lapsed hold reads EXPIRED), or 404 (also for another owner's). */
export async function loadReservationDetail(db: Queryable, reservationId: string, now: Date, scope: OwnerScope): Promise<ReservationDetail> {
  const reservation = await findReservation(db, reservationId);
  if (reservation === undefined || !canSee(scope, reservation.owner)) throw notFound('Reservation', reservationId);
  return reservationDetail(reservation, await findReservationLines(db, [reservationId]), await findStatusHistory(db, reservationId), now);
}
