import type { BackorderFill, BackorderStatus, NewBackorder, StoredBackorder } from '../domain/backorder';
import type { Priority } from '../domain/priority';
import { queryRow, queryRows, type Queryable, type Transaction } from './client';
import { isOneOf, raw, sql, toQuery, whereAll, type Sql } from './sql';

const backorderColumns = `b.id, b.owner, b.product_id as "productId", b.warehouse_id as "warehouseId", b.quantity,
  b.fulfilled_quantity as "fulfilledQuantity", b.status, b.mode, b.priority, b.strategy,
  b.reservation_id as "reservationId", b.allocation_id as "allocationId", b.reference_type as "referenceType",
  b.reference_id as "referenceId", b.customer_id as "customerId", b.destination_latitude as "destinationLatitude",
  b.destination_longitude as "destinationLongitude", b.reservation_minutes as "reservationMinutes", b.actor,
  b.created_at as "createdAt", b.updated_at as "updatedAt"`;

/**
 * SQL mirror of byPriorityThenArrival (src/domain/priority.ts): the request_priority enum sorts
 * lowest first, so `desc` serves critical first; then the oldest, then by id. Nulls last as in the
 * indexes (priority is never null, but the planner only uses an index of the same order).
 */
export const backorderServingOrderSql = 'b.priority desc nulls last, b.created_at, b.id';

/** The statement inserting backorders (a part of commitWrites). */
export function backordersInsert(rows: readonly NewBackorder[]): Sql {
  const column = <T>(pick: (row: NewBackorder) => T) => rows.map(pick);
  return sql`insert into backorder_items (id, owner, product_id, warehouse_id, quantity, mode, priority, strategy, reservation_id,
                                    reference_type, reference_id, customer_id, destination_latitude, destination_longitude,
                                    reservation_minutes, actor, created_at, updated_at, allocation_id)
       select id, owner, product_id, warehouse_id, quantity, mode, priority, strategy, reservation_id, reference_type, reference_id,
              customer_id, destination_latitude, destination_longitude, reservation_minutes, actor, created_at, created_at, allocation_id
         from unnest(${column((row) => row.id)}::uuid[], ${column((row) => row.owner)}::text[], ${column((row) => row.productId)}::text[],
                     ${column((row) => row.warehouseId)}::text[],
                     ${column((row) => row.quantity)}::int[], ${column((row) => row.mode)}::text[], ${column((row) => row.priority)}::request_priority[],
                     ${column((row) => row.strategy)}::text[], ${column((row) => row.reservationId)}::uuid[], ${column((row) => row.referenceType)}::text[],
                     ${column((row) => row.referenceId)}::text[], ${column((row) => row.customerId)}::text[],
                     ${column((row) => row.destinationLatitude)}::float8[], ${column((row) => row.destinationLongitude)}::float8[],
                     ${column((row) => row.reservationMinutes)}::int[], ${column((row) => row.actor)}::text[], ${column((row) => row.createdAt)}::timestamptz[],
                     ${column((row) => row.allocationId)}::uuid[])
           as b(id, owner, product_id, warehouse_id, quantity, mode, priority, strategy, reservation_id, reference_type, reference_id,
                customer_id, destination_latitude, destination_longitude, reservation_minutes, actor, created_at, allocation_id)`;
}

/** The products among `productIds` with an OPEN backorder; read without locks, to skip fills that have nothing to do. */
export async function productsWithOpenBackorders(db: Queryable, productIds: readonly string[]): Promise<string[]> {
  if (productIds.length === 0) return [];
  const rows = await queryRows<{ productId: string }>(
    db,
    `select distinct product_id as "productId" from backorder_items where status = 'OPEN' and product_id = any($1::text[])`,
    [productIds],
  );
  return rows.map((row) => row.productId);
}

/** Locks the OPEN backorders of the products in the order they are served: highest priority, then oldest. */
export async function lockOpenBackorders(tx: Transaction, productIds: readonly string[]): Promise<StoredBackorder[]> {
  return queryRows<StoredBackorder>(
    tx,
    `select ${backorderColumns} from backorder_items b
      where b.status = 'OPEN' and b.product_id = any($1::text[])
      order by ${backorderServingOrderSql}
        for update`,
    [productIds],
  );
}

/** A fill to record, and when it happened. */
export type BackorderFillRecord = Pick<BackorderFill, 'backorderId' | 'quantity' | 'reservationId'> & { at: Date };

/** The statement recording fills (a part of commitWrites): more units fulfilled, the reservation that holds them, FULFILLED when complete. */
export function backorderFillsUpdate(fills: readonly BackorderFillRecord[]): Sql {
  return sql`update backorder_items b
        set fulfilled_quantity = b.fulfilled_quantity + d.quantity,
            status = case when b.fulfilled_quantity + d.quantity = b.quantity then 'FULFILLED' else b.status end,
            reservation_id = d.reservation_id,
            updated_at = d.at
       from unnest(${fills.map((fill) => fill.backorderId)}::uuid[], ${fills.map((fill) => fill.quantity)}::int[], ${fills.map((fill) => fill.reservationId)}::uuid[],
                   ${fills.map((fill) => fill.at)}::timestamptz[])
         as d(id, quantity, reservation_id, at)
      where b.id = d.id`;
}

/** Cancels the OPEN backorders linked to the reservations; returns them as cancelled. */
export async function cancelBackordersOfReservations(tx: Transaction, reservationIds: readonly string[], now: Date): Promise<StoredBackorder[]> {
  if (reservationIds.length === 0) return [];
  return queryRows<StoredBackorder>(
    tx,
    `update backorder_items b set status = 'CANCELLED', updated_at = $2
      where b.status = 'OPEN' and b.reservation_id = any($1::uuid[])
      returning ${backorderColumns}`,
    [reservationIds, now],
  );
}

/** The backorders recorded for an owner's order (reference type `order`), without locking them. */
export async function findBackordersOfOrder(db: Queryable, owner: string, orderId: string): Promise<StoredBackorder[]> {
  return queryRows<StoredBackorder>(
    db,
    `select ${backorderColumns} from backorder_items b
      where b.owner = $1 and b.reference_type = 'order' and b.reference_id = $2 order by b.created_at, b.id`,
    [owner, orderId],
  );
}

/** Cancels the OPEN backorders of an owner's order; returns them. */
export async function cancelOpenBackordersOfOrder(tx: Transaction, owner: string, orderId: string, now: Date): Promise<StoredBackorder[]> {
  return queryRows<StoredBackorder>(
    tx,
    `update backorder_items b set status = 'CANCELLED', updated_at = $3
      where b.status = 'OPEN' and b.owner = $1 and b.reference_type = 'order' and b.reference_id = $2
      returning ${backorderColumns}`,
    [owner, orderId, now],
  );
}

/** Locks one backorder. */
export async function lockBackorder(tx: Transaction, id: string): Promise<StoredBackorder | undefined> {
  return queryRow<StoredBackorder>(tx, `select ${backorderColumns} from backorder_items b where b.id = $1 for update`, [id]);
}

/** Cancels one backorder and returns it. */
export async function cancelBackorder(tx: Transaction, id: string, now: Date): Promise<StoredBackorder> {
  const row = await queryRow<StoredBackorder>(
    tx,
    `update backorder_items b set status = 'CANCELLED', updated_at = $2 where b.id = $1 returning ${backorderColumns}`,
    [id, now],
  );
  // the caller locked it, so it still exists
  return row!;
}

/** Which backorders a lookup returns: every field given narrows it. `after` continues a listing after that backorder; `offset` skips rows instead. */
export type BackorderFilter = {
  owner?: string;
  productId?: string;
  warehouseId?: string;
  statuses?: readonly BackorderStatus[];
  priorities?: readonly Priority[];
  referenceId?: string;
  reservationId?: string;
  createdFrom?: Date;
  createdTo?: Date;
  after?: string;
  offset?: number;
  limit: number;
};

/**
 * Backorders in the order fills serve them (highest priority, then oldest, then id), without
 * locking them. Only the filters given become conditions, each served by an index on its column
 * followed by (priority desc, created_at, id); creation time by (created_at). After a cursor the
 * priority bound is an index condition and only rows of the cursor's own priority are skipped.
 */
export async function listBackorders(db: Queryable, filter: BackorderFilter): Promise<StoredBackorder[]> {
  const conditions: Sql[] = [];
  if (filter.owner !== undefined) conditions.push(sql`b.owner = ${filter.owner}`);
  if (filter.productId !== undefined) conditions.push(sql`b.product_id = ${filter.productId}`);
  if (filter.warehouseId !== undefined) conditions.push(sql`b.warehouse_id = ${filter.warehouseId}`);
  if (filter.referenceId !== undefined) conditions.push(sql`b.reference_id = ${filter.referenceId}`);
  if (filter.reservationId !== undefined) conditions.push(sql`b.reservation_id = ${filter.reservationId}::uuid`);
  if (filter.statuses !== undefined) conditions.push(sql`b.status ${isOneOf(filter.statuses)}`);
  if (filter.priorities !== undefined) conditions.push(sql`b.priority = any(${filter.priorities}::request_priority[])`);
  if (filter.createdFrom !== undefined) conditions.push(sql`b.created_at >= ${filter.createdFrom}`);
  if (filter.createdTo !== undefined) conditions.push(sql`b.created_at < ${filter.createdTo}`);
  let cursor = raw('');
  if (filter.after !== undefined) {
    cursor = sql`with after as (select priority, created_at, id from backorder_items where id = ${filter.after}::uuid)`;
    conditions.push(
      sql`b.priority <= (select priority from after)`,
      sql`(b.priority < (select priority from after) or (b.created_at, b.id) > (select created_at, id from after))`,
    );
  }
  const { text, values } = toQuery(sql`${cursor}
     select ${raw(backorderColumns)} from backorder_items b
      ${whereAll(conditions)}
      order by ${raw(backorderServingOrderSql)}
      limit ${filter.limit} offset ${filter.offset ?? 0}`);
  return queryRows<StoredBackorder>(db, text, values);
}
