import { queryRows, type Transaction } from './client';

/** A product at a warehouse. */
export type StockPair = { productId: string; warehouseId: string };

/** The settings the low-stock rule reads, with the remembered crossing. */
export type LowStockSettings = StockPair & { reorderPoint: number; minStockLevel: number; lowStockAlerted: boolean };

/**
 * Locks the stock settings of the given pairs (those that have settings) in (product, warehouse)
 * order, so transactions changing the same pair decide about its alert one after the other.
 */
export async function lockLowStockSettings(tx: Transaction, pairs: readonly StockPair[]): Promise<LowStockSettings[]> {
  if (pairs.length === 0) return [];
  return queryRows<LowStockSettings>(
    tx,
    `select s.product_id as "productId", s.warehouse_id as "warehouseId", s.reorder_point as "reorderPoint",
            s.min_stock_level as "minStockLevel", s.low_stock_alerted as "lowStockAlerted"
       from stock_settings s
       join unnest($1::text[], $2::text[]) as p(product_id, warehouse_id)
         on p.product_id = s.product_id and p.warehouse_id = s.warehouse_id
      order by s.product_id, s.warehouse_id
        for update of s`,
    [pairs.map((pair) => pair.productId), pairs.map((pair) => pair.warehouseId)],
  );
}

/** Available stock (on hand − reserved − allocated) per pair, over lots not expired at `now`. */
export async function sumAvailableStock(tx: Transaction, pairs: readonly StockPair[], now: Date): Promise<(StockPair & { available: number })[]> {
  if (pairs.length === 0) return [];
  return queryRows<StockPair & { available: number }>(
    tx,
    `select p.product_id as "productId", p.warehouse_id as "warehouseId",
            coalesce(sum(i.quantity - i.reserved_quantity - i.allocated_quantity), 0)::int as available
       from unnest($1::text[], $2::text[]) as p(product_id, warehouse_id)
       left join inventory_items i
         on i.product_id = p.product_id and i.warehouse_id = p.warehouse_id
        and (i.expires_at is null or i.expires_at > $3)
      group by p.product_id, p.warehouse_id`,
    [pairs.map((pair) => pair.productId), pairs.map((pair) => pair.warehouseId), now],
  );
}

/** Stores whether each pair has an outstanding low-stock alert, in one statement. */
export async function setLowStockAlerted(tx: Transaction, changes: readonly (StockPair & { alerted: boolean })[]): Promise<void> {
  if (changes.length === 0) return;
  await tx.query(
    `update stock_settings s set low_stock_alerted = c.alerted
       from unnest($1::text[], $2::text[], $3::boolean[]) as c(product_id, warehouse_id, alerted)
      where s.product_id = c.product_id and s.warehouse_id = c.warehouse_id`,
    [changes.map((change) => change.productId), changes.map((change) => change.warehouseId), changes.map((change) => change.alerted)],
  );
}
