/** Extend a reservation's hold. */
import type { Transaction } from '../../db/client';
import { commitWrites } from '../../db/writes';
import { AppError } from '../../errors';
import type { ExtendInput, ReservationDetail } from '../../schemas/reservations';
import type { UseCaseContext } from './reserve';
import { effectiveStatus } from '../../domain/reservation';
import { loadReservationDetail, lockForChange } from './transitions';

const MINUTE_MS = 60_000;

/**
 * Moves expiresAt later by `minutes` while the reservation is RESERVED and its hold has not ended;
 * the hold may never reach beyond RESERVATION_MAX_MINUTES after the reservation was created.
 */
export async function extendReservation(tx: Transaction, reservationId: string, input: ExtendInput, ctx: UseCaseContext): Promise<ReservationDetail> {
  const max = ctx.config.RESERVATION_MAX_MINUTES;
  if (input.minutes > max) {
    throw new AppError('VALIDATION_FAILED', `minutes may be at most ${max}`, {
      issues: [{ path: 'minutes', message: `must be at most ${max}`, code: 'too_big' }],
    });
  }
  const reservation = await lockForChange(tx, reservationId, input.version, ctx.scope);
  const status = effectiveStatus(reservation, ctx.now);
  if (status !== 'RESERVED') {
    throw new AppError('INVALID_TRANSITION', `Reservation is ${status}; only a RESERVED reservation whose hold has not ended can be extended`, {
      reservationId,
      status,
    });
  }
  const expiresAt = new Date(reservation.expiresAt.getTime() + input.minutes * MINUTE_MS);
  const latest = new Date(reservation.createdAt.getTime() + max * MINUTE_MS);
  if (expiresAt > latest) {
    throw new AppError('CONFLICT', `A reservation may be held at most ${max} minutes from its creation, until ${latest.toISOString()}`, {
      reservationId,
      expiresAt: reservation.expiresAt.toISOString(),
      latestExpiresAt: latest.toISOString(),
    });
  }
  await commitWrites(tx, { reservationChanges: [{ id: reservationId, expiresAt, at: ctx.now }] });
  return loadReservationDetail(tx, reservationId, ctx.now, ctx.scope);
}
