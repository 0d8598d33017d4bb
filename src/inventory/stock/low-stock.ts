import type { Queryable } from '../../db/client';
import { findLowStock } from '../../db/stock-settings-store';
import type { LowStockQuery, LowStockResponse } from '../../schemas/inventory';

/**
 * Products at warehouses whose available stock is at or under the reorder point (or the given
 * threshold), with the reorder quantity as the suggested order; CRITICAL when nothing is available
 * or less than the minimum level, LOW otherwise.
 */
export async function listLowStock(db: Queryable, query: LowStockQuery, now = new Date()): Promise<LowStockResponse> {
  const { items, totalItems, criticalItems } = await findLowStock(db, {
    ...(query.warehouseId === undefined ? {} : { warehouseId: query.warehouseId }),
    ...(query.threshold === undefined ? {} : { threshold: query.threshold }),
    now,
    limit: query.limit,
    offset: query.offset,
  });
  return {
    items: items.map((item) => ({
      productId: item.productId,
      productSku: item.productSku,
      productName: item.productName,
      warehouseId: item.warehouseId,
      warehouseName: item.warehouseName,
      currentStock: item.available,
      quantityOnHand: item.onHand,
      reorderPoint: item.reorderPoint,
      threshold: item.threshold,
      minStockLevel: item.minStockLevel,
      percentageRemaining: item.threshold === 0 ? null : Math.round((item.available / item.threshold) * 1000) / 10,
      suggestedOrderQuantity: item.reorderQuantity,
      severity: item.severity,
    })),
    totalItems,
    criticalItems,
    lowItems: totalItems - criticalItems,
  };
}
