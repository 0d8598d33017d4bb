/**
 * Low-stock rules (SPEC §3): pure, on the available stock of one product at one warehouse. SQL
 * mirrors: isLowStockSql, lowStockSeveritySql and thresholdUnitsSql in src/db/stock-settings-store.ts.
 */

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

/** The alerts outstanding for a pair: one for the crossing down to the reorder point, and one for the crossing to CRITICAL. */
export type LowStockAlerts = { low: boolean; critical: boolean };

/**
 * What a change of stock means for the alerts. LowStockAlert fires once per crossing: when stock
 * falls to the reorder point (LOW or, straight away, CRITICAL), and again when it falls on from LOW
 * to CRITICAL. Back to LOW re-arms the CRITICAL alert; above the reorder point re-arms both. Returns
 * the severity to alert with (or null) and the alerts outstanding afterwards, or null when nothing
 * changes.
 */
export function lowStockCrossing(level: StockLevel, outstanding: LowStockAlerts): { alert: LowStockSeverity | null; outstanding: LowStockAlerts } | null {
  const severity = isLowStock(level) ? lowStockSeverity(level) : null;
  const next = { low: severity !== null, critical: severity === 'CRITICAL' };
  if (next.low === outstanding.low && next.critical === outstanding.critical) return null;
  const alert = (next.low && !outstanding.low) || (next.critical && !outstanding.critical) ? severity : null;
  return { alert, outstanding: next };
}

/**
 * How many days the available stock lasts at the rate it left over the last `windowDays` days
 * (`outbound` units, see outboundMovementTypes), rounded down to a tenth of a day; null when nothing
 * left in the window, so no rate is known.
 */
export function daysOfSupply(available: number, outbound: number, windowDays: number): number | null {
  if (outbound <= 0) return null;
  return Math.floor((Math.max(available, 0) / (outbound / windowDays)) * 10) / 10;
}

/**
 * The number of units a low-stock `threshold` stands for at a pair: a fraction below 1 (the seed's
 * `threshold=0.2`) is that share of the reorder point, a whole number is units.
 */
export function thresholdUnits(threshold: number, reorderPoint: number): number {
  return threshold > 0 && threshold < 1 ? threshold * reorderPoint : threshold;
}
