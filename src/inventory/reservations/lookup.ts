/** Finding reservations: by order, status, product, warehouse, creation and expiry time, page by page. */
import type { Queryable } from '../../db/client';
import { findReservationLines, searchReservations } from '../../db/reservation-store';
import { listOwner, type OwnerScope } from '../../domain/ownership';
import type { ListReservationsQuery, ReservationPage } from '../../schemas/reservations';
import { reservationSummary } from './views';

/**
 * One page of the reservations the scope sees matching every filter given, newest first, each as it
 * reads at `now` (a lapsed hold is EXPIRED, and a status filter sees it so). `nextCursor` continues after the page.
 */
export async function findReservations(db: Queryable, query: ListReservationsQuery, now: Date, scope: OwnerScope): Promise<ReservationPage> {
  const { owner: requested, status, cursor, limit, ...filters } = query;
  const owner = listOwner(scope, requested);
  if (owner === null) return { items: [], nextCursor: null };
  const rows = await searchReservations(db, {
    ...filters,
    ...(owner === undefined ? {} : { owner }),
    ...(status === undefined ? {} : { status: { anyOf: status, at: now } }),
    after: cursor,
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const lines = await findReservationLines(
    db,
    page.map((row) => row.id),
  );
  return {
    items: page.map((row) =>
      reservationSummary(
        row,
        lines.filter((line) => line.reservationId === row.id),
        now,
      ),
    ),
    nextCursor: rows.length > limit ? page.at(-1)!.id : null,
  };
}
