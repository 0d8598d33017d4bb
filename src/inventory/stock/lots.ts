import type { LotRow } from '../../db/lot-store';
import { warehouseServes } from '../../domain/catalogue';
import { isExpired } from '../../domain/expiry';
import { available } from '../../domain/quantities';
import type { CandidateLot } from '../../domain/strategies';
import type { LotView, WarehouseStock } from '../../schemas/inventory';

/** A lot as the strategies see it: what it can still give, and its warehouse's facts. */
export function toCandidateLot(lot: LotRow): CandidateLot {
  return {
    id: lot.id,
    productId: lot.productId,
    warehouseId: lot.warehouseId,
    lotNumber: lot.lotNumber,
    available: available(lot),
    receivedAt: lot.receivedAt,
    expiresAt: lot.expiresAt,
    unitCost: lot.unitCost,
    warehouse: lot.warehouse,
  };
}

/** A lot as the API shows it. */
export function toLotView(lot: LotRow): LotView {
  return {
    lotId: lot.id,
    productId: lot.productId,
    warehouseId: lot.warehouseId,
    lotNumber: lot.lotNumber,
    binLocation: lot.binLocation,
    quantity: lot.quantity,
    reservedQuantity: lot.reservedQuantity,
    allocatedQuantity: lot.allocatedQuantity,
    availableQuantity: available(lot),
    receivedAt: lot.receivedAt,
    expiresAt: lot.expiresAt,
    unitCost: lot.unitCost,
    version: lot.version,
  };
}

/** A warehouse's stock of a product before any lot is counted. */
export function emptyStock(warehouseId: string, active: boolean): WarehouseStock {
  return {
    warehouseId,
    active,
    quantityOnHand: 0,
    quantityReserved: 0,
    quantityAllocated: 0,
    quantityExpired: 0,
    quantityAvailable: 0,
    availableQuantity: 0,
  };
}

/**
 * Stock per warehouse of the given lots, in warehouse id order. Expired lots are on hand but not
 * available, and an inactive warehouse has nothing available.
 */
export function stockByWarehouse(lots: readonly LotRow[], now: Date): WarehouseStock[] {
  const byWarehouse = new Map<string, WarehouseStock>();
  for (const lot of lots) {
    const stock = byWarehouse.get(lot.warehouseId) ?? emptyStock(lot.warehouseId, lot.warehouse.active);
    stock.quantityOnHand += lot.quantity;
    stock.quantityReserved += lot.reservedQuantity;
    stock.quantityAllocated += lot.allocatedQuantity;
    if (isExpired(lot, now)) stock.quantityExpired += lot.quantity;
    else if (warehouseServes(lot.warehouse)) stock.quantityAvailable += available(lot);
    stock.availableQuantity = stock.quantityAvailable;
    byWarehouse.set(lot.warehouseId, stock);
  }
  return [...byWarehouse.values()].sort((a, b) => (a.warehouseId < b.warehouseId ? -1 : a.warehouseId > b.warehouseId ? 1 : 0));
}
