/** THE way a use case changes stock: its movements, and what the low-stock rule makes of them, as writes for commitWrites. */
import type { Transaction } from '../db/client';
import type { StockLocks } from '../db/locks';
import type { LotRow } from '../db/lot-store';
import { sumAvailableStock, type StockPair } from '../db/low-stock-store';
import { findStockUnitsOfLots } from '../db/unit-store';
import { mergeWrites, type Writes } from '../db/writes';
import { isExpired } from '../domain/expiry';
import { lowStockCrossing, type LowStockAlerts } from '../domain/low-stock';
import { availableDelta, type LotMovement } from '../domain/movement';
import { unitMoves, type ReceivedUnit } from '../domain/units';
import type { NewEvent } from '../events/schemas';
import { outboxRows } from '../events/outbox';

/** What the rules need of a lot a movement touches: its pair, expiry and how its product is tracked. */
export type MovedLot = Pick<LotRow, 'id' | 'productId' | 'warehouseId' | 'expiresAt' | 'tracking'>;

/** The units a change of serial-tracked stock brings in, and the serial numbers each reference (a reservation, an adjustment) asked for. */
export type UnitChoice = { received?: readonly ReceivedUnit[]; chosen?: ReadonlyMap<string, ReadonlySet<string>> };

const pairKey = (pair: StockPair) => `${pair.productId}\u0000${pair.warehouseId}`;

/**
 * The writes of a change of stock: the movements (each with its ledger row), and the low-stock rule
 * for every product/warehouse whose available stock they change — LowStockAlert once per crossing
 * (see lowStockCrossing): when available stock falls to or under the reorder point, and again when
 * it falls on from LOW to CRITICAL. Only pairs
 * with stock settings take part; lockFor holds those settings, so the stock summed here (one
 * statement, only when such a pair changes) includes every change committed before, and our own
 * movements are added to it. Movements of serial-tracked lots move as many of their units
 * (unitMoves: the units `choice` brings in, those it asks for by serial number first), read under
 * the lots' locks; their new states and history go out in the same writes. Every moved lot must be
 * locked (`locks`) or created by this transaction (`created`): a movement of any other lot is a
 * bug, and throws.
 */
export async function stockChangeWrites(
  tx: Transaction,
  locks: StockLocks,
  movements: readonly LotMovement[],
  options: { now: Date; created?: readonly MovedLot[] } & UnitChoice,
): Promise<Writes> {
  const { now } = options;
  const lots = new Map<string, MovedLot>([...locks.lots, ...(options.created ?? [])].map((lot) => [lot.id, lot]));
  return mergeWrites(await lowStockWrites(tx, locks, lots, movements, now), await unitWrites(tx, lots, movements, options));
}

/** The unit moves of the movements of serial-tracked lots, as writes. */
async function unitWrites(
  tx: Transaction,
  lots: ReadonlyMap<string, MovedLot>,
  movements: readonly LotMovement[],
  options: { now: Date } & UnitChoice,
): Promise<Writes> {
  const serialMovements = movements.filter((movement) => lots.get(movement.lotId)?.tracking === 'serial');
  if (serialMovements.length === 0) return {};
  const units = await findStockUnitsOfLots(tx, [...new Set(serialMovements.map((movement) => movement.lotId))]);
  const moves = unitMoves(serialMovements, units, options.received ?? [], options.chosen);
  const at = options.now;
  return {
    unitsReceived: moves.received.map((unit) => ({ ...unit, at })),
    unitChanges: moves.changes.map((change) => ({ ...change, at })),
    unitSteps: moves.steps.map((step) => ({ ...step, at })),
  };
}

/** The movements, and the low-stock alerts they cause. */
async function lowStockWrites(
  tx: Transaction,
  locks: StockLocks,
  lots: ReadonlyMap<string, MovedLot>,
  movements: readonly LotMovement[],
  now: Date,
): Promise<Writes> {
  const changed = new Map<string, StockPair & { total: number; unexpired: number }>();
  for (const movement of movements) {
    const lot = lots.get(movement.lotId);
    if (lot === undefined) throw new Error(`lot ${movement.lotId} is moved without being locked first`);
    const key = pairKey(lot);
    const entry = changed.get(key) ?? { productId: lot.productId, warehouseId: lot.warehouseId, total: 0, unexpired: 0 };
    const delta = availableDelta(movement);
    entry.total += delta;
    if (!isExpired(lot, now)) entry.unexpired += delta;
    changed.set(key, entry);
  }
  const settings = locks.settings.filter((setting) => (changed.get(pairKey(setting))?.total ?? 0) !== 0);
  if (settings.length === 0) return { movements };

  const before = new Map((await sumAvailableStock(tx, settings, now)).map((row) => [pairKey(row), row.available]));
  const lowStockAlerts: (StockPair & { alerts: LowStockAlerts })[] = [];
  const alerts: NewEvent[] = [];
  for (const setting of settings) {
    const key = pairKey(setting);
    const level = {
      available: (before.get(key) ?? 0) + (changed.get(key)?.unexpired ?? 0),
      reorderPoint: setting.reorderPoint,
      minStockLevel: setting.minStockLevel,
    };
    const crossing = lowStockCrossing(level, setting.alerts);
    if (crossing === null) continue;
    const pair = { productId: setting.productId, warehouseId: setting.warehouseId };
    lowStockAlerts.push({ ...pair, alerts: crossing.outstanding });
    if (crossing.alert !== null) {
      alerts.push({
        type: 'LowStockAlert',
        ...pair,
        currentStock: level.available,
        reorderPoint: level.reorderPoint,
        severity: crossing.alert,
        timestamp: now,
      });
    }
  }
  return { movements, lowStockAlerts, outbox: outboxRows(alerts, now) };
}
