import { queryRow, queryRows, type Queryable } from './client';
import { effectiveStatusSql } from './reservation-store';

/** How many reservations read as each status at `now` (a lapsed RESERVED hold counts as EXPIRED). */
export async function countReservationsByStatus(db: Queryable, now: Date): Promise<{ status: string; count: number }[]> {
  return queryRows<{ status: string; count: number }>(
    db,
    `select ${effectiveStatusSql('$1::timestamptz')} as status, count(*)::int as count from reservations r group by 1`,
    [now],
  );
}

/** How many lots hold more reserved plus allocated than on hand; the CHECK constraints keep this at 0. */
export async function countOversoldLots(db: Queryable): Promise<number> {
  const row = await queryRow<{ count: number }>(
    db,
    `select count(*)::int as count from inventory_items where reserved_quantity + allocated_quantity > quantity`,
  );
  return row?.count ?? 0;
}
