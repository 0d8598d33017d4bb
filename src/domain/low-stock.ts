/** Low-stock rules (SPEC §3): pure, on the available stock of one product at one warehouse. */

/** What the rules look at: available stock (expired lots excluded) and the pair's stock settings. */
export type StockLevel = { available: number; reorderPoint: number; minStockLevel: number };

export const lowStockSeverities = ['CRITICAL', 'LOW'] as const;
export type LowStockSeverity = (typeof lowStockSeverities)[number];

/** Low means at or under the reorder point. */
export function isLowStock(level: StockLevel): boolean {
  return level.available <= level.reorderPoint;
}

/** CRITICAL when nothing is available or less than the minimum stock level, LOW otherwise (as GET /inventory/low-stock lists it). */
export function lowStockSeverity(level: StockLevel): LowStockSeverity {
  return level.available <= 0 || level.available < level.minStockLevel ? 'CRITICAL' : 'LOW';
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
