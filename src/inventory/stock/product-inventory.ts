import type { Pool } from 'pg';
import { getProduct } from '../../catalogue/catalogue';
import { withTransaction } from '../../db/client';
import { findLotsOfProducts } from '../../db/lot-store';
import type { MovementType } from '../../domain/movement';
import { findLastMovementAt, listMovements, summarizeMovements } from '../../db/movement-store';
import { findProductWarehouses } from '../../db/stock-settings-store';
import { isExpired } from '../../domain/expiry';
import { correctionMovementTypes, inboundMovementTypes, outboundMovementTypes } from '../../domain/movement';
import type { ProductInventoryResponse } from '../../schemas/inventory';
import { emptyStock, stockByWarehouse, toLotView } from './lots';
import { toMovementView } from './movements';

const DAY_MS = 24 * 60 * 60 * 1000;
/** At most this many of the last day's movements are listed; the full ledger is paginated elsewhere. */
const RECENT_MOVEMENTS = 100;

/**
 * The stock of one product: totals, and per warehouse (those with lots or settings) the quantities,
 * reorder settings, bin location and the lots that hold stock, plus the last 24 hours of movements.
 * Read in one snapshot, so the totals, lots and movements agree. 404 for an unknown product.
 */
export async function getProductInventory(pool: Pool, productId: string, warehouseId?: string, now = new Date()): Promise<ProductInventoryResponse> {
  return withTransaction(
    pool,
    async (tx) => {
      const product = await getProduct(tx, productId);
      const since = new Date(now.getTime() - DAY_MS);
      const places = await findProductWarehouses(tx, productId, warehouseId);
      const lots = await findLotsOfProducts(tx, [productId], warehouseId);
      const byType = await summarizeMovements(tx, productId, since, warehouseId);
      const recent = await listMovements(tx, { productId, from: since, limit: RECENT_MOVEMENTS + 1, ...(warehouseId === undefined ? {} : { warehouseId }) });
      const lastMovementAt = await findLastMovementAt(tx, productId, warehouseId);

      const stock = new Map(stockByWarehouse(lots, now).map((entry) => [entry.warehouseId, entry]));
      const warehouses = places.map((place) => {
        const settings = place.settings;
        const hasLocation = settings !== null && (settings.zone !== null || settings.aisle !== null || settings.shelf !== null);
        return {
          ...(stock.get(place.warehouseId) ?? emptyStock(place.warehouseId, place.active)),
          warehouseName: place.warehouseName,
          reorderPoint: settings?.reorderPoint ?? null,
          reorderQuantity: settings?.reorderQuantity ?? null,
          minStockLevel: settings?.minStockLevel ?? null,
          maxStockLevel: settings?.maxStockLevel ?? null,
          location: hasLocation ? { zone: settings.zone, aisle: settings.aisle, shelf: settings.shelf } : null,
          lots: lots
            .filter((lot) => lot.warehouseId === place.warehouseId && lot.quantity > 0)
            .map((lot) => ({ ...toLotView(lot), expired: isExpired(lot, now) })),
        };
      });

      const total = (field: 'quantityOnHand' | 'quantityReserved' | 'quantityAllocated' | 'quantityExpired' | 'quantityAvailable') =>
        warehouses.reduce((sum, warehouse) => sum + warehouse[field], 0);
      const net = (types: readonly MovementType[]) => byType.filter((entry) => types.includes(entry.type)).reduce((sum, entry) => sum + entry.quantityDelta, 0);

      return {
        productId: product.id,
        sku: product.sku,
        name: product.name,
        totalQuantity: total('quantityOnHand'),
        totalReserved: total('quantityReserved'),
        totalAllocated: total('quantityAllocated'),
        totalExpired: total('quantityExpired'),
        totalAvailable: total('quantityAvailable'),
        warehouses,
        movements: {
          last24Hours: {
            since,
            received: net(inboundMovementTypes),
            shipped: -net(outboundMovementTypes),
            adjusted: net(correctionMovementTypes),
            byType,
            items: recent.slice(0, RECENT_MOVEMENTS).map(toMovementView),
            truncated: recent.length > RECENT_MOVEMENTS,
          },
        },
        lastMovementAt,
        lastUpdated: lastMovementAt,
      };
    },
    { isolation: 'repeatable read' },
  );
}
