/**
 * The stock application: what the HTTP routes call for stock of products. It owns each call's
 * transaction, Idempotency-Key and answer status; the use cases beside it return outcomes.
 */
import type { Pool } from 'pg';
import type { Caller } from '../../auth/tokens';
import type { Config } from '../../config';
import { lockFor } from '../../db/locks';
import {
  adjustResponse,
  type AdjustBody,
  type AdjustResponse,
  type CheckAvailabilityBody,
  type CheckAvailabilityResponse,
  type LowStockQuery,
  type LowStockResponse,
  type MovementsQuery,
  type MovementsResponse,
  type ProductInventoryResponse,
  type StockSettings,
  type StockSettingsBody,
} from '../../schemas/inventory';
import { fillBackorders } from '../backorders/backorders';
import { keptOperation, type IdempotentAnswer } from '../idempotency';
import { adjustStock } from './adjust';
import { checkAvailability } from './availability';
import { listLowStock } from './low-stock';
import { listProductMovements } from './movements';
import { getProductInventory } from './product-inventory';
import { putStockSettings } from './settings';

export type StockApp = {
  /** One all-or-nothing adjustment (200); its receipts, returns and positive corrections then fill waiting backorders. */
  adjust(caller: Caller, key: string | undefined, body: AdjustBody): Promise<IdempotentAnswer<AdjustResponse>>;
  checkAvailability(body: CheckAvailabilityBody): Promise<CheckAvailabilityResponse>;
  lowStock(query: LowStockQuery): Promise<LowStockResponse>;
  putSettings(body: StockSettingsBody): Promise<StockSettings>;
  productInventory(productId: string, warehouseId: string | undefined): Promise<ProductInventoryResponse>;
  movements(productId: string, query: MovementsQuery): Promise<MovementsResponse>;
};

/** The stock application of one process. */
export function createStockApp({ pool, config }: { pool: Pool; config: Config }): StockApp {
  const adjust = keptOperation(pool, 'adjust', adjustResponse);
  return {
    adjust: (caller, key, body) =>
      adjust(caller, key, body, async (tx) => {
        const now = new Date();
        // An adjustment locks only the lots at its warehouses; a fill then locking the product's other
        // lots would take locks out of id order and could deadlock with a reservation. So every lot of
        // the adjusted products is locked first, in one statement: a backorder may appear while the
        // adjustment waits for its lots, so checking for backorders beforehand would not be enough.
        await lockFor(tx, { products: body.adjustments.map((line) => line.productId) });
        const outcome = await adjustStock(tx, body, caller.sub, now);
        await fillBackorders(tx, outcome.replenishedProductIds, now, caller.sub);
        return { status: 200, body: outcome.answer };
      }),
    checkAvailability: (body) => checkAvailability(pool, body),
    lowStock: (query) => listLowStock(pool, query, { now: new Date(), windowDays: config.DAYS_OF_SUPPLY_WINDOW_DAYS }),
    putSettings: (body) => putStockSettings(pool, body),
    productInventory: (productId, warehouseId) => getProductInventory(pool, productId, warehouseId),
    movements: (productId, query) => listProductMovements(pool, productId, query),
  };
}
