import type { Queryable } from '../../db/client';
import { findLotsOfProducts } from '../../db/lot-store';
import type { CheckAvailabilityBody, CheckAvailabilityResponse } from '../../schemas/inventory';
import { stockByWarehouse } from './lots';

/**
 * How much of each item could be had right now, without holding anything. Each item is answered on
 * its own (two items of one product do not share the stock). A product Stockroom does not know has
 * no stock, so it answers OUT_OF_STOCK rather than an error: a checkout asking about a product the
 * catalogue has not sent yet learns what it needs to know.
 */
export async function checkAvailability(db: Queryable, body: CheckAvailabilityBody, now = new Date()): Promise<CheckAvailabilityResponse> {
  const lots = await findLotsOfProducts(db, [...new Set(body.items.map((item) => item.productId))]);
  const items = body.items.map((item) => {
    const warehouses = stockByWarehouse(
      lots.filter((lot) => lot.productId === item.productId && (item.warehouseId === undefined || lot.warehouseId === item.warehouseId)),
      now,
    );
    const availableQuantity = warehouses.reduce((sum, warehouse) => sum + warehouse.quantityAvailable, 0);
    const status = availableQuantity >= item.quantity ? 'AVAILABLE' : availableQuantity > 0 ? 'PARTIAL' : 'OUT_OF_STOCK';
    return {
      productId: item.productId,
      ...(item.warehouseId === undefined ? {} : { warehouseId: item.warehouseId }),
      requestedQuantity: item.quantity,
      availableQuantity,
      status,
      warehouses,
    } as const;
  });
  return { available: items.every((item) => item.status === 'AVAILABLE'), items, checkedAt: now };
}
