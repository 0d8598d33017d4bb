import { isLowStock, lowStockCrossing, lowStockSeverity } from '../../src/domain/low-stock';

const level = (available: number, reorderPoint = 20, minStockLevel = 0) => ({ available, reorderPoint, minStockLevel });

describe('low stock', () => {
  it('counts stock at or under the reorder point as low', () => {
    expect(isLowStock(level(21))).toBe(false);
    expect(isLowStock(level(20))).toBe(true);
    expect(isLowStock(level(0, 0))).toBe(true);
  });

  it('is CRITICAL when nothing is available or less than the minimum level, LOW otherwise', () => {
    expect(lowStockSeverity(level(0, 20))).toBe('CRITICAL');
    expect(lowStockSeverity(level(9, 20, 10))).toBe('CRITICAL');
    expect(lowStockSeverity(level(10, 20, 10))).toBe('LOW');
    expect(lowStockSeverity(level(15, 50))).toBe('LOW');
  });

  it('alerts on the crossing down, re-arms on recovery, and is quiet otherwise', () => {
    expect(lowStockCrossing(level(20), false)).toBe('alert');
    expect(lowStockCrossing(level(3), true)).toBeNull();
    expect(lowStockCrossing(level(21), true)).toBe('recovered');
    expect(lowStockCrossing(level(30), false)).toBeNull();
  });
});
