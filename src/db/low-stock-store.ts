import type { LowStockAlerts } from '../domain/low-stock';
import { queryRows, type Transaction } from './client';
import { lotAvailableSql, lotExpiredSql } from './lot-store';
import { sql, type Sql } from './sql';

/** A product at a warehouse. */
export type StockPair = { productId: string; warehouseId: string };

/** The settings the low-stock rule reads, with the alerts outstanding (see lowStockCrossing). */
export type LowStockSettings = StockPair & { reorderPoint: number; minStockLevel: number; alerts: LowStockAlerts };

/** Available stock (on hand − reserved − allocated) per pair, over lots not expired at `now`; read after the pairs' settings are locked (lockFor). */
export async function sumAvailableStock(tx: Transaction, pairs: readonly StockPair[], now: Date): Promise<(StockPair & { available: number })[]> {
  if (pairs.length === 0) return [];
  return queryRows<StockPair & { available: number }>(
    tx,
    `select p.product_id as "productId", p.warehouse_id as "warehouseId",
            coalesce(sum(${lotAvailableSql}), 0)::int as available
       from unnest($1::text[], $2::text[]) as p(product_id, warehouse_id)
       left join inventory_items i
         on i.product_id = p.product_id and i.warehouse_id = p.warehouse_id
        and not ${lotExpiredSql('$3')}
      group by p.product_id, p.warehouse_id`,
    [pairs.map((pair) => pair.productId), pairs.map((pair) => pair.warehouseId), now],
  );
}

/** The statement storing the low-stock alerts outstanding for each pair (a part of commitWrites). */
export function lowStockAlertsUpdate(changes: readonly (StockPair & { alerts: LowStockAlerts })[]): Sql {
  return sql`update stock_settings s set low_stock_alerted = c.low, critical_stock_alerted = c.critical
       from unnest(${changes.map((change) => change.productId)}::text[], ${changes.map((change) => change.warehouseId)}::text[],
                   ${changes.map((change) => change.alerts.low)}::boolean[], ${changes.map((change) => change.alerts.critical)}::boolean[])
              as c(product_id, warehouse_id, low, critical)
      where s.product_id = c.product_id and s.warehouse_id = c.warehouse_id`;
}
