import { queryRow, queryRows, type Queryable } from './client';

/** How many reservations are in each status. */
export async function countReservationsByStatus(db: Queryable): Promise<{ status: string; count: number }[]> {
  return queryRows<{ status: string; count: number }>(db, `select status, count(*)::int as count from reservations group by status`);
}

/** How many lots hold more reserved plus allocated than on hand; the CHECK constraints keep this at 0. */
export async function countOversoldLots(db: Queryable): Promise<number> {
  const row = await queryRow<{ count: number }>(
    db,
    `select count(*)::int as count from inventory_items where reserved_quantity + allocated_quantity > quantity`,
  );
  return row?.count ?? 0;
}
