/** Reservation statuses and the only moves between them (SPEC §3). */
import type { Priority } from './priority';
import type { Strategy } from './strategies';

export const reservationStatuses = ['RESERVED', 'ALLOCATED', 'FULFILLED', 'RELEASED', 'EXPIRED'] as const;
export type ReservationStatus = (typeof reservationStatuses)[number];

/** Where each status may go next; an empty list marks a terminal status. */
export const reservationTransitions: Readonly<Record<ReservationStatus, readonly ReservationStatus[]>> = Object.freeze({
  RESERVED: Object.freeze(['ALLOCATED', 'RELEASED', 'EXPIRED'] as const),
  ALLOCATED: Object.freeze(['FULFILLED'] as const),
  FULFILLED: Object.freeze([] as const),
  RELEASED: Object.freeze([] as const),
  EXPIRED: Object.freeze([] as const),
});

/** Why a transition was refused; an expected outcome, returned rather than thrown. */
export type TransitionRefusal = { code: 'INVALID_TRANSITION'; from: ReservationStatus; to: ReservationStatus; message: string };

/** null when allowed, else a refusal value naming the current status (expected outcome: a value, not a throw). */
export function checkTransition(from: ReservationStatus, to: ReservationStatus): TransitionRefusal | null {
  if (reservationTransitions[from].includes(to)) return null;
  const allowed = reservationTransitions[from];
  const next = allowed.length === 0 ? 'it is final' : `it can only become ${allowed.join(' or ')}`;
  return { code: 'INVALID_TRANSITION', from, to, message: `Reservation is ${from} and cannot become ${to}; ${next}` };
}

/**
 * The status a reservation reads as at `now`: a RESERVED hold whose `expiresAt` is at or before
 * `now` has ended and reads as EXPIRED everywhere at once; the sweeper later only gives its stock
 * back and writes the history. SQL mirror: `effectiveStatusSql` in src/db/reservation-store.ts.
 */
export function effectiveStatus(reservation: { status: ReservationStatus; expiresAt: Date }, now: Date): ReservationStatus {
  return reservation.status === 'RESERVED' && reservation.expiresAt.getTime() <= now.getTime() ? 'EXPIRED' : reservation.status;
}

/** True when no transition leaves `status`. */
export function isTerminal(status: ReservationStatus): boolean {
  return reservationTransitions[status].length === 0;
}

/** A reservation to create. */
export type NewReservation = {
  id: string;
  /** whose reservation it is (src/domain/ownership.ts) */
  owner: string;
  orderId: string;
  customerId: string | null;
  status: ReservationStatus;
  priority: Priority;
  strategy: Strategy;
  expiresAt: Date;
  createdAt: Date;
};

/** Units of one lot a new reservation holds: all reserved, or all allocated at once. */
export type NewReservationLine = {
  id: string;
  reservationId: string;
  lotId: string;
  productId: string;
  warehouseId: string;
  quantity: number;
  allocatedQuantity: number;
};

/** What became of a line's units so far. */
export type LineParts = { quantity: number; allocatedQuantity: number; releasedQuantity: number; movedQuantity: number };

/**
 * Units of a line still held as reserved: those taken, less the allocated, the released and those
 * moved to another reservation. SQL twin: the `held` condition of claimExpiredReservations (src/db/reservation-store.ts).
 */
export function heldOf(line: LineParts): number {
  return line.quantity - line.allocatedQuantity - line.releasedQuantity - line.movedQuantity;
}

/** One row of a reservation's status history. */
export type StatusChange = {
  reservationId: string;
  fromStatus: ReservationStatus | null;
  toStatus: ReservationStatus;
  reason: string | null;
  reference: string | null;
  actor: string;
  at: Date;
};
