/** Low-stock rules (SPEC §3): pure, on the available stock of one product at one warehouse. */

/** What the rules look at: available stock (expired lots excluded) and the pair's stock settings. */
export type StockLevel = { available: number; reorderPoint: number; minStockLevel: number };

export const lowStockSeverities = ['CRITICAL', 'LOW'] as const;
export type LowStockSeverity = (typeof lowStockSeverities)[number];

/** Low means at or under the reorder point. */
export function isLowStock(level: StockLevel): boolean {
  return level.available <= level.reorderPoint;
}

/**
 * CRITICAL at or under the minimum stock level, or at or under a quarter of the reorder point
 * (seed 002 lists 5 of 20 as CRITICAL and 15 of 50 as LOW); LOW otherwise.
 */
export function lowStockSeverity(level: StockLevel): LowStockSeverity {
  return level.available <= level.minStockLevel || level.available * 4 <= level.reorderPoint ? 'CRITICAL' : 'LOW';
}

/**
 * What a change of stock means for the alert: `alert` when stock crossed down to the reorder point
 * and no alert is outstanding, `recovered` when it rose above it again (the next crossing alerts
 * anew), null when nothing changes.
 */
export function lowStockCrossing(level: StockLevel, alerted: boolean): 'alert' | 'recovered' | null {
  const low = isLowStock(level);
  if (low && !alerted) return 'alert';
  if (!low && alerted) return 'recovered';
  return null;
}
