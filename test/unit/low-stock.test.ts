import fc from 'fast-check';
import { daysOfSupply, isLowStock, lowStockCrossing, lowStockSeverity, thresholdUnits, type LowStockAlerts } from '../../src/domain/low-stock';

const level = (available: number, reorderPoint = 20, minStockLevel = 0) => ({ available, reorderPoint, minStockLevel });
const none: LowStockAlerts = { low: false, critical: false };
const lowOut: LowStockAlerts = { low: true, critical: false };
const criticalOut: LowStockAlerts = { low: true, critical: true };

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
    expect(lowStockCrossing(level(20), none)).toEqual({ alert: 'LOW', outstanding: lowOut });
    expect(lowStockCrossing(level(3), lowOut)).toBeNull();
    expect(lowStockCrossing(level(21), lowOut)).toEqual({ alert: null, outstanding: none });
    expect(lowStockCrossing(level(30), none)).toBeNull();
  });

  it('alerts again when stock falls on from LOW to CRITICAL, once, and re-arms that alert back at LOW', () => {
    expect(lowStockCrossing(level(4, 20, 5), lowOut)).toEqual({ alert: 'CRITICAL', outstanding: criticalOut });
    expect(lowStockCrossing(level(0, 20, 5), criticalOut)).toBeNull();
    expect(lowStockCrossing(level(6, 20, 5), criticalOut)).toEqual({ alert: null, outstanding: lowOut });
    expect(lowStockCrossing(level(2, 20, 5), lowOut)).toEqual({ alert: 'CRITICAL', outstanding: criticalOut });
  });

  it('alerts once with CRITICAL when stock falls straight past LOW', () => {
    expect(lowStockCrossing(level(0, 20, 5), none)).toEqual({ alert: 'CRITICAL', outstanding: criticalOut });
    expect(lowStockCrossing(level(30, 20, 5), criticalOut)).toEqual({ alert: null, outstanding: none });
  });

  it('alerts exactly at each crossing into LOW or CRITICAL, whatever the path', () => {
    const steps = fc.array(fc.integer({ min: -5, max: 40 }), { minLength: 1, maxLength: 60 });
    fc.assert(
      fc.property(steps, fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 30 }), (availables, reorderPoint, minStockLevel) => {
        let outstanding = none;
        let previous: string = 'OK';
        for (const available of availables) {
          const current = level(available, reorderPoint, minStockLevel);
          const band = isLowStock(current) ? lowStockSeverity(current) : 'OK';
          const crossing = lowStockCrossing(current, outstanding);
          const worse = (band === 'LOW' && previous === 'OK') || (band === 'CRITICAL' && previous !== 'CRITICAL');
          expect(crossing?.alert ?? null).toBe(worse ? band : null);
          outstanding = crossing?.outstanding ?? outstanding;
          previous = band;
        }
      }),
    );
  });
});

describe('days of supply', () => {
  it('divides available stock by the daily outbound rate of the window, rounded down to a tenth', () => {
    expect(daysOfSupply(10, 30, 30)).toBe(10);
    expect(daysOfSupply(5, 90, 30)).toBe(1.6);
    expect(daysOfSupply(0, 90, 30)).toBe(0);
    expect(daysOfSupply(-3, 90, 30)).toBe(0);
  });

  it('is unknown (null) when nothing went out in the window', () => {
    expect(daysOfSupply(10, 0, 30)).toBeNull();
  });
});

describe('low-stock threshold', () => {
  it('reads a fraction below 1 as that share of the reorder point and a whole number as units', () => {
    expect(thresholdUnits(0.2, 20)).toBe(4);
    expect(thresholdUnits(0.5, 15)).toBe(7.5);
    expect(thresholdUnits(1, 20)).toBe(1);
    expect(thresholdUnits(0, 20)).toBe(0);
    expect(thresholdUnits(50, 20)).toBe(50);
  });
});
