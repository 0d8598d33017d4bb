import { queryRow, queryRows, type Queryable } from './client';
import type { MovementType } from '../domain/movement';
import type { MovementRow } from './lot-store';

const movementColumns = `id::float8 as id, lot_id as "lotId", product_id as "productId", warehouse_id as "warehouseId", type,
  quantity_delta as "quantityDelta", reserved_delta as "reservedDelta", allocated_delta as "allocatedDelta",
  quantity_after as "quantityAfter", reserved_after as "reservedAfter", allocated_after as "allocatedAfter",
  reason, reference_type as "referenceType", reference_id as "referenceId", actor, created_at as "createdAt"`;

/** Which ledger rows of a product to read; `beforeId` continues a listing after the last row seen. */
export type MovementFilter = {
  productId: string;
  types?: readonly MovementType[];
  warehouseId?: string;
  from?: Date;
  to?: Date;
  beforeId?: number;
  limit: number;
};

/**
 * Ledger rows of one product, newest first (by time, then id). `beforeId` is the id of the last row
 * of the previous page; the listing goes on below it, so rows added meanwhile never shift a page.
 */
export async function listMovements(db: Queryable, filter: MovementFilter): Promise<MovementRow[]> {
  return queryRows<MovementRow>(
    db,
    `select ${movementColumns}
       from inventory_transactions
      where product_id = $1
        and ($2::text[] is null or type = any($2::text[]))
        and ($3::text is null or warehouse_id = $3)
        and ($4::timestamptz is null or created_at >= $4)
        and ($5::timestamptz is null or created_at < $5)
        and ($6::bigint is null
             or (created_at, id) < (select c.created_at, c.id from inventory_transactions c where c.id = $6))
      order by created_at desc, id desc
      limit $7`,
    [filter.productId, filter.types ?? null, filter.warehouseId ?? null, filter.from ?? null, filter.to ?? null, filter.beforeId ?? null, filter.limit],
  );
}

/** Count and net on-hand change per movement type of one product since a moment. */
export async function summarizeMovements(
  db: Queryable,
  productId: string,
  since: Date,
  warehouseId?: string,
): Promise<{ type: MovementType; count: number; quantityDelta: number }[]> {
  return queryRows(
    db,
    `select type, count(*)::int as count, coalesce(sum(quantity_delta), 0)::int as "quantityDelta"
       from inventory_transactions
      where product_id = $1 and created_at >= $2 and ($3::text is null or warehouse_id = $3)
      group by type
      order by type`,
    [productId, since, warehouseId ?? null],
  );
}

/** When the stock of a product (optionally at one warehouse) last moved, if ever. */
export async function findLastMovementAt(db: Queryable, productId: string, warehouseId?: string): Promise<Date | null> {
  const row = await queryRow<{ at: Date | null }>(
    db,
    `select max(created_at) as at from inventory_transactions where product_id = $1 and ($2::text is null or warehouse_id = $2)`,
    [productId, warehouseId ?? null],
  );
  return row?.at ?? null;
}

/** Units that left each product at each warehouse through movements of the given types since a moment (one statement). */
export async function sumOutboundSince(
  db: Queryable,
  pairs: readonly { productId: string; warehouseId: string }[],
  types: readonly MovementType[],
  since: Date,
): Promise<{ productId: string; warehouseId: string; units: number }[]> {
  if (pairs.length === 0) return [];
  return queryRows(
    db,
    `select p.product_id as "productId", p.warehouse_id as "warehouseId", coalesce(-sum(t.quantity_delta), 0)::int as units
       from unnest($1::text[], $2::text[]) as p(product_id, warehouse_id)
       left join inventory_transactions t
         on t.product_id = p.product_id and t.warehouse_id = p.warehouse_id and t.created_at >= $3 and t.type = any($4::text[])
      group by p.product_id, p.warehouse_id`,
    [pairs.map((pair) => pair.productId), pairs.map((pair) => pair.warehouseId), since, types],
  );
}
