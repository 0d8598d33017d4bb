import { assertKnownReferences } from '../../catalogue/catalogue';
import type { Queryable } from '../../db/client';
import { upsertStockSettings, type StockSettingsRow } from '../../db/stock-settings-store';
import type { StockSettings, StockSettingsBody } from '../../schemas/inventory';

/** Settings as the API shows them: the bin location as one object, or null when none is set. */
export function toSettingsView(row: StockSettingsRow): StockSettings {
  return {
    productId: row.productId,
    warehouseId: row.warehouseId,
    reorderPoint: row.reorderPoint,
    reorderQuantity: row.reorderQuantity,
    minStockLevel: row.minStockLevel,
    maxStockLevel: row.maxStockLevel,
    location: row.zone === null && row.aisle === null && row.shelf === null ? null : { zone: row.zone, aisle: row.aisle, shelf: row.shelf },
    updatedAt: row.updatedAt,
  };
}

/** Sets the reorder levels and bin location of a product at a warehouse, replacing what was there. */
export async function putStockSettings(db: Queryable, body: StockSettingsBody): Promise<StockSettings> {
  await assertKnownReferences(db, { productIds: [body.productId], warehouseIds: [body.warehouseId] });
  const row = await upsertStockSettings(db, {
    productId: body.productId,
    warehouseId: body.warehouseId,
    reorderPoint: body.reorderPoint,
    reorderQuantity: body.reorderQuantity,
    minStockLevel: body.minStockLevel,
    maxStockLevel: body.maxStockLevel ?? null,
    zone: body.location?.zone ?? null,
    aisle: body.location?.aisle ?? null,
    shelf: body.location?.shelf ?? null,
  });
  return toSettingsView(row);
}
