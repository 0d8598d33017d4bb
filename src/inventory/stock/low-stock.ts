import type { Queryable } from '../../db/client';
import { sumOutboundSince } from '../../db/movement-store';
import { findLowStock } from '../../db/stock-settings-store';
import { daysOfSupply } from '../../domain/low-stock';
import { outboundMovementTypes } from '../../domain/movement';
import type { LowStockQuery, LowStockResponse } from '../../schemas/inventory';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Products at warehouses whose available stock is at or under the reorder point (or the given
 * threshold: units, or a fraction below 1 of the reorder point), with the reorder quantity as the
 * suggested order and the days the stock lasts at the rate it left over the last `windowDays`;
 * CRITICAL when nothing is available or less than the minimum level, LOW otherwise.
 */
export async function listLowStock(db: Queryable, query: LowStockQuery, options: { now: Date; windowDays: number }): Promise<LowStockResponse> {
  const { now, windowDays } = options;
  const { items, totalItems, criticalItems } = await findLowStock(db, {
    ...(query.warehouseId === undefined ? {} : { warehouseId: query.warehouseId }),
    ...(query.threshold === undefined ? {} : { threshold: query.threshold }),
    now,
    limit: query.limit,
    offset: query.offset,
  });
  const since = new Date(now.getTime() - windowDays * DAY_MS);
  const outbound = new Map(
    (await sumOutboundSince(db, items, outboundMovementTypes, since)).map((row) => [`${row.productId}\u0000${row.warehouseId}`, row.units]),
  );
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
      percentageRemaining: item.reorderPoint === 0 ? null : Math.round((item.available / item.reorderPoint) * 1000) / 10,
      suggestedOrderQuantity: item.reorderQuantity,
      daysOfSupply: daysOfSupply(item.available, outbound.get(`${item.productId}\u0000${item.warehouseId}`) ?? 0, windowDays),
      severity: item.severity,
      status: item.severity,
    })),
    totalItems,
    criticalItems,
    lowItems: totalItems - criticalItems,
  };
}
