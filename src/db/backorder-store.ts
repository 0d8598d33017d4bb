import type { Strategy } from '../domain/strategies';
import { queryRow, queryRows, statementValues, whereAll, type Queryable, type Statement, type Transaction } from './client';

export type BackorderStatus = 'OPEN' | 'FULFILLED' | 'CANCELLED';

/** A backorder as stored: the units of one line a request could not get, waiting for stock. */
export type BackorderRow = {
  id: string;
  productId: string;
  warehouseId: string | null;
  quantity: number;
  fulfilledQuantity: number;
  status: BackorderStatus;
  mode: 'reserve' | 'allocate';
  /** priorityWeight of the request */
  priority: number;
  strategy: Strategy;
  reservationId: string | null;
  allocationId: string | null;
  referenceType: string | null;
  referenceId: string | null;
  customerId: string | null;
  destinationLatitude: number | null;
  destinationLongitude: number | null;
  reservationMinutes: number;
  actor: string;
  createdAt: Date;
  updatedAt: Date;
};

export type NewBackorder = Omit<BackorderRow, 'fulfilledQuantity' | 'status' | 'updatedAt'>;

const backorderColumns = `b.id, b.product_id as "productId", b.warehouse_id as "warehouseId", b.quantity,
  b.fulfilled_quantity as "fulfilledQuantity", b.status, b.mode, b.priority, b.strategy,
  b.reservation_id as "reservationId", b.allocation_id as "allocationId", b.reference_type as "referenceType",
  b.reference_id as "referenceId", b.customer_id as "customerId", b.destination_latitude as "destinationLatitude",
  b.destination_longitude as "destinationLongitude", b.reservation_minutes as "reservationMinutes", b.actor,
  b.created_at as "createdAt", b.updated_at as "updatedAt"`;

/** The statement inserting backorders (run it with runTogether). */
export function backordersInsert(rows: readonly NewBackorder[]): Statement | undefined {
  if (rows.length === 0) return undefined;
  return {
    text: `insert into backorder_items (id, product_id, warehouse_id, quantity, mode, priority, strategy, reservation_id,
                                    reference_type, reference_id, customer_id, destination_latitude, destination_longitude,
                                    reservation_minutes, actor, created_at, updated_at, allocation_id)
       select id, product_id, warehouse_id, quantity, mode, priority, strategy, reservation_id, reference_type, reference_id,
              customer_id, destination_latitude, destination_longitude, reservation_minutes, actor, created_at, created_at, allocation_id
         from unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::text[], $6::int[], $7::text[], $8::uuid[], $9::text[],
                     $10::text[], $11::text[], $12::float8[], $13::float8[], $14::int[], $15::text[], $16::timestamptz[], $17::uuid[])
           as b(id, product_id, warehouse_id, quantity, mode, priority, strategy, reservation_id, reference_type, reference_id,
                customer_id, destination_latitude, destination_longitude, reservation_minutes, actor, created_at, allocation_id)`,
    values: [
      rows.map((row) => row.id),
      rows.map((row) => row.productId),
      rows.map((row) => row.warehouseId),
      rows.map((row) => row.quantity),
      rows.map((row) => row.mode),
      rows.map((row) => row.priority),
      rows.map((row) => row.strategy),
      rows.map((row) => row.reservationId),
      rows.map((row) => row.referenceType),
      rows.map((row) => row.referenceId),
      rows.map((row) => row.customerId),
      rows.map((row) => row.destinationLatitude),
      rows.map((row) => row.destinationLongitude),
      rows.map((row) => row.reservationMinutes),
      rows.map((row) => row.actor),
      rows.map((row) => row.createdAt),
      rows.map((row) => row.allocationId),
    ],
  };
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
export async function lockOpenBackorders(tx: Transaction, productIds: readonly string[]): Promise<BackorderRow[]> {
  return queryRows<BackorderRow>(
    tx,
    `select ${backorderColumns} from backorder_items b
      where b.status = 'OPEN' and b.product_id = any($1::text[])
      order by b.priority desc, b.created_at, b.id
        for update`,
    [productIds],
  );
}

/** Records fills in one statement: more units fulfilled, the reservation that holds them, FULFILLED when complete. */
export async function recordBackorderFills(
  tx: Transaction,
  fills: readonly { id: string; quantity: number; reservationId: string }[],
  now: Date,
): Promise<void> {
  if (fills.length === 0) return;
  await tx.query(
    `update backorder_items b
        set fulfilled_quantity = b.fulfilled_quantity + d.quantity,
            status = case when b.fulfilled_quantity + d.quantity = b.quantity then 'FULFILLED' else b.status end,
            reservation_id = d.reservation_id,
            updated_at = $4
       from unnest($1::uuid[], $2::int[], $3::uuid[]) as d(id, quantity, reservation_id)
      where b.id = d.id`,
    [fills.map((fill) => fill.id), fills.map((fill) => fill.quantity), fills.map((fill) => fill.reservationId), now],
  );
}

/** Cancels the OPEN backorders linked to the reservations; returns them as cancelled. */
export async function cancelBackordersOfReservations(tx: Transaction, reservationIds: readonly string[], now: Date): Promise<BackorderRow[]> {
  if (reservationIds.length === 0) return [];
  return queryRows<BackorderRow>(
    tx,
    `update backorder_items b set status = 'CANCELLED', updated_at = $2
      where b.status = 'OPEN' and b.reservation_id = any($1::uuid[])
      returning ${backorderColumns}`,
    [reservationIds, now],
  );
}

/** The backorders recorded for an order (reference type `order`), without locking them. */
export async function findBackordersOfOrder(db: Queryable, orderId: string): Promise<BackorderRow[]> {
  return queryRows<BackorderRow>(
    db,
    `select ${backorderColumns} from backorder_items b where b.reference_type = 'order' and b.reference_id = $1 order by b.created_at, b.id`,
    [orderId],
  );
}

/** Cancels the OPEN backorders of an order; returns them. */
export async function cancelOpenBackordersOfOrder(tx: Transaction, orderId: string, now: Date): Promise<BackorderRow[]> {
  return queryRows<BackorderRow>(
    tx,
    `update backorder_items b set status = 'CANCELLED', updated_at = $2
      where b.status = 'OPEN' and b.reference_type = 'order' and b.reference_id = $1
      returning ${backorderColumns}`,
    [orderId, now],
  );
}

/** Locks one backorder. */
export async function lockBackorder(tx: Transaction, id: string): Promise<BackorderRow | undefined> {
  return queryRow<BackorderRow>(tx, `select ${backorderColumns} from backorder_items b where b.id = $1 for update`, [id]);
}

/** Cancels one backorder and returns it. */
export async function cancelBackorder(tx: Transaction, id: string, now: Date): Promise<BackorderRow> {
  const row = await queryRow<BackorderRow>(
    tx,
    `update backorder_items b set status = 'CANCELLED', updated_at = $2 where b.id = $1 returning ${backorderColumns}`,
    [id, now],
  );
  // the caller locked it, so it still exists
  return row!;
}

/** Which backorders a lookup returns: every field given narrows it. `after` continues a listing after that backorder; `offset` skips rows instead. */
export type BackorderFilter = {
  productId?: string;
  warehouseId?: string;
  statuses?: readonly BackorderStatus[];
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
export async function listBackorders(db: Queryable, filter: BackorderFilter): Promise<BackorderRow[]> {
  const { values, add, isOneOf } = statementValues();
  const conditions: string[] = [];
  const equalities = [
    ['product_id', filter.productId],
    ['warehouse_id', filter.warehouseId],
    ['reference_id', filter.referenceId],
  ] as const;
  for (const [column, value] of equalities) if (value !== undefined) conditions.push(`b.${column} = ${add(value)}`);
  if (filter.reservationId !== undefined) conditions.push(`b.reservation_id = ${add(filter.reservationId)}::uuid`);
  if (filter.statuses !== undefined) conditions.push(`b.status ${isOneOf(filter.statuses)}`);
  if (filter.createdFrom !== undefined) conditions.push(`b.created_at >= ${add(filter.createdFrom)}`);
  if (filter.createdTo !== undefined) conditions.push(`b.created_at < ${add(filter.createdTo)}`);
  let cursor = '';
  if (filter.after !== undefined) {
    cursor = `with after as (select priority, created_at, id from backorder_items where id = ${add(filter.after)}::uuid)`;
    conditions.push(
      'b.priority <= (select priority from after)',
      '(b.priority < (select priority from after) or (b.created_at, b.id) > (select created_at, id from after))',
    );
  }
  return queryRows<BackorderRow>(
    db,
    `${cursor}
     select ${backorderColumns} from backorder_items b
      ${whereAll(conditions)}
      -- nulls last as in the indexes (priority is never null, but the planner only matches the same order)
      order by b.priority desc nulls last, b.created_at, b.id
      limit ${add(filter.limit)} offset ${add(filter.offset ?? 0)}`,
    values,
  );
}
