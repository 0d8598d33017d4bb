import { queryRow, queryRows, type Queryable } from './client';
import { lotAvailableSql, lotExpiredSql, warehouseServesSql } from './lot-store';

/** Reorder and bin settings of one product at one warehouse, as stored. */
export type StockSettingsRow = {
  productId: string;
  warehouseId: string;
  reorderPoint: number;
  reorderQuantity: number;
  minStockLevel: number;
  maxStockLevel: number | null;
  zone: string | null;
  aisle: string | null;
  shelf: string | null;
  updatedAt: Date;
};

export type StockSettingsInput = Omit<StockSettingsRow, 'updatedAt'>;

const settingsColumns = `product_id as "productId", warehouse_id as "warehouseId", reorder_point as "reorderPoint",
  reorder_quantity as "reorderQuantity", min_stock_level as "minStockLevel", max_stock_level as "maxStockLevel",
  zone, aisle, shelf, updated_at as "updatedAt"`;

/** Creates or replaces the settings of a product at a warehouse; the low-stock alert memory is kept. */
export async function upsertStockSettings(db: Queryable, settings: StockSettingsInput): Promise<StockSettingsRow> {
  const row = await queryRow<StockSettingsRow>(
    db,
    `insert into stock_settings (product_id, warehouse_id, reorder_point, reorder_quantity, min_stock_level, max_stock_level, zone, aisle, shelf)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     on conflict (product_id, warehouse_id) do update
        set reorder_point = excluded.reorder_point, reorder_quantity = excluded.reorder_quantity,
            min_stock_level = excluded.min_stock_level, max_stock_level = excluded.max_stock_level,
            zone = excluded.zone, aisle = excluded.aisle, shelf = excluded.shelf, updated_at = now()
     returning ${settingsColumns}`,
    [
      settings.productId,
      settings.warehouseId,
      settings.reorderPoint,
      settings.reorderQuantity,
      settings.minStockLevel,
      settings.maxStockLevel,
      settings.zone,
      settings.aisle,
      settings.shelf,
    ],
  );
  return row!;
}

/** A warehouse that holds lots of a product or has settings for it, with those settings (null when none). */
export type ProductWarehouseRow = {
  warehouseId: string;
  warehouseName: string;
  active: boolean;
  settings: Omit<StockSettingsRow, 'productId' | 'warehouseId' | 'updatedAt'> | null;
};

/** The warehouses where a product has lots or settings, in id order, optionally just one. */
export async function findProductWarehouses(db: Queryable, productId: string, warehouseId?: string): Promise<ProductWarehouseRow[]> {
  return queryRows<ProductWarehouseRow>(
    db,
    `select w.id as "warehouseId", w.name as "warehouseName", w.active,
            case when s.product_id is null then null
                 else json_build_object('reorderPoint', s.reorder_point, 'reorderQuantity', s.reorder_quantity,
                                        'minStockLevel', s.min_stock_level, 'maxStockLevel', s.max_stock_level,
                                        'zone', s.zone, 'aisle', s.aisle, 'shelf', s.shelf) end as settings
       from warehouses w
       left join stock_settings s on s.warehouse_id = w.id and s.product_id = $1
      where ($2::text is null or w.id = $2)
        and (s.product_id is not null or exists (select 1 from inventory_items i where i.product_id = $1 and i.warehouse_id = w.id))
      order by w.id`,
    [productId, warehouseId ?? null],
  );
}

/** A product at a warehouse whose available stock is at or under its threshold. */
export type LowStockRow = {
  productId: string;
  productSku: string;
  productName: string;
  warehouseId: string;
  warehouseName: string;
  available: number;
  onHand: number;
  reorderPoint: number;
  /** the threshold in units at this pair */
  threshold: number;
  minStockLevel: number;
  reorderQuantity: number;
  severity: 'CRITICAL' | 'LOW';
};

/** SQL mirror of `thresholdUnits` (src/domain/low-stock.ts): the units a threshold parameter stands for at a pair of stock settings `s`. */
export function thresholdUnitsSql(threshold: string): string {
  return `(case when ${threshold} > 0 and ${threshold} < 1 then ${threshold} * s.reorder_point else ${threshold} end)`;
}

export type LowStockFilter = { warehouseId?: string; threshold?: number; now: Date; limit: number; offset: number };

/** isLowStock() of src/domain/low-stock.ts over SQL expressions: available at or under the threshold. */
export function isLowStockSql(available: string, threshold: string): string {
  return `(${available} <= ${threshold})`;
}

/** lowStockSeverity() of src/domain/low-stock.ts over SQL expressions. */
export function lowStockSeveritySql(available: string, minStockLevel: string): string {
  return `(case when ${available} <= 0 or ${available} < ${minStockLevel} then 'CRITICAL' else 'LOW' end)`;
}

/**
 * Products with settings at active warehouses whose available stock (on hand less reserved and
 * allocated, expired lots left out) is at or under the threshold (the reorder point unless given;
 * a fraction below 1 is that share of the reorder point, see thresholdUnits).
 * CRITICAL when nothing is available or less than the minimum level, else LOW; critical first.
 * Returns one page and the totals over all pages.
 */
export async function findLowStock(db: Queryable, filter: LowStockFilter): Promise<{ items: LowStockRow[]; totalItems: number; criticalItems: number }> {
  const rows = await queryRows<{ totalItems: number; criticalItems: number; item: LowStockRow | null }>(
    db,
    `with levels as (
       select s.product_id, s.warehouse_id, p.sku, p.name as product_name, w.name as warehouse_name,
              s.reorder_point, s.reorder_quantity, s.min_stock_level,
              coalesce(${thresholdUnitsSql('$2::numeric')}, s.reorder_point)::float8 as threshold,
              coalesce(sum(i.quantity), 0)::int as on_hand,
              coalesce(sum(${lotAvailableSql}) filter (where not ${lotExpiredSql('$3')}), 0)::int as available
         from stock_settings s
         join products p on p.id = s.product_id
         join warehouses w on w.id = s.warehouse_id and ${warehouseServesSql}
         left join inventory_items i on i.product_id = s.product_id and i.warehouse_id = s.warehouse_id
        where ($1::text is null or s.warehouse_id = $1)
        group by s.product_id, s.warehouse_id, p.sku, p.name, w.name
     ), low as (
       select *, ${lowStockSeveritySql('available', 'min_stock_level')} as severity
         from levels
        where ${isLowStockSql('available', 'threshold')}
     )
     select totals.total as "totalItems", totals.critical as "criticalItems",
            case when page.product_id is null then null
                 else json_build_object('productId', page.product_id, 'productSku', page.sku, 'productName', page.product_name,
                                        'warehouseId', page.warehouse_id, 'warehouseName', page.warehouse_name,
                                        'available', page.available, 'onHand', page.on_hand, 'reorderPoint', page.reorder_point,
                                        'threshold', page.threshold, 'minStockLevel', page.min_stock_level,
                                        'reorderQuantity', page.reorder_quantity, 'severity', page.severity) end as item
       from (select count(*)::int as total, (count(*) filter (where severity = 'CRITICAL'))::int as critical from low) totals
       left join lateral (
         select * from low
          order by severity = 'CRITICAL' desc, available, product_id, warehouse_id
          limit $4 offset $5
       ) page on true
      order by page.severity = 'CRITICAL' desc, page.available, page.product_id, page.warehouse_id`,
    [filter.warehouseId ?? null, filter.threshold ?? null, filter.now, filter.limit, filter.offset],
  );
  const first = rows[0]!;
  return {
    items: rows.flatMap((row) => (row.item ? [row.item] : [])),
    totalItems: first.totalItems,
    criticalItems: first.criticalItems,
  };
}
