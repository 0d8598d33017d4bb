import type { Transaction } from '../db/client';
import { applyMovements, type LotMovement, type MovementRow } from '../db/lot-store';
import { lockLowStockSettings, setLowStockAlerted, sumAvailableStock, type StockPair } from '../db/low-stock-store';
import { lowStockCrossing, lowStockSeverity } from '../domain/low-stock';
import { recordEvents } from '../events/outbox';
import type { InventoryEvent, NewEvent } from '../events/schemas';

/**
 * THE way a use case changes stock: applies the movements (ledger rows included) and then the
 * low-stock rule for every product/warehouse whose available stock they changed. Returns the
 * ledger rows. Take every lot lock the transaction needs before calling it: for pairs with stock
 * settings it locks those settings until commit.
 */
export async function applyStockChanges(tx: Transaction, movements: readonly LotMovement[], options: { now: Date }): Promise<MovementRow[]> {
  const rows = await applyMovements(tx, movements);
  await checkLowStock(tx, pairsWithChangedAvailability(rows), options);
  return rows;
}

/**
 * Raises LowStockAlert once when available stock of a pair falls to or under its reorder point,
 * and re-arms it only once stock is above the reorder point again. Only pairs with stock settings
 * take part. Returns the alerts recorded.
 */
export async function checkLowStock(tx: Transaction, pairs: readonly StockPair[], options: { now: Date }): Promise<InventoryEvent[]> {
  // Settings are locked first, then stock is summed in a later statement: the sum then sees every
  // change committed by whoever held the lock before, so two transactions cannot both alert.
  const settings = await lockLowStockSettings(tx, pairs);
  if (settings.length === 0) return [];
  const levels = new Map((await sumAvailableStock(tx, settings, options.now)).map((row) => [pairKey(row), row.available]));

  const changes: (StockPair & { alerted: boolean })[] = [];
  const alerts: NewEvent[] = [];
  for (const setting of settings) {
    const level = { available: levels.get(pairKey(setting)) ?? 0, reorderPoint: setting.reorderPoint, minStockLevel: setting.minStockLevel };
    const crossing = lowStockCrossing(level, setting.lowStockAlerted);
    if (crossing === null) continue;
    const pair = { productId: setting.productId, warehouseId: setting.warehouseId };
    changes.push({ ...pair, alerted: crossing === 'alert' });
    if (crossing === 'alert') {
      alerts.push({
        type: 'LowStockAlert',
        ...pair,
        currentStock: level.available,
        reorderPoint: level.reorderPoint,
        severity: lowStockSeverity(level),
        timestamp: options.now,
      });
    }
  }
  await setLowStockAlerted(tx, changes);
  return recordEvents(tx, alerts);
}

const pairKey = (pair: StockPair) => `${pair.productId}\u0000${pair.warehouseId}`;

/** The pairs whose available stock (on hand − reserved − allocated) changed in total. */
function pairsWithChangedAvailability(rows: readonly MovementRow[]): StockPair[] {
  const deltas = new Map<string, StockPair & { delta: number }>();
  for (const row of rows) {
    const key = pairKey(row);
    const entry = deltas.get(key) ?? { productId: row.productId, warehouseId: row.warehouseId, delta: 0 };
    entry.delta += row.quantityDelta - row.reservedDelta - row.allocatedDelta;
    deltas.set(key, entry);
  }
  return [...deltas.values()].filter((entry) => entry.delta !== 0).map(({ productId, warehouseId }) => ({ productId, warehouseId }));
}
