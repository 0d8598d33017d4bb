import { available, lotInvariantViolations } from '../../src/domain/quantities';

describe('available', () => {
  it('is quantity less reserved and allocated', () => {
    expect(available({ quantity: 100, reservedQuantity: 30, allocatedQuantity: 20 })).toBe(50);
  });

  it('is zero when everything on hand is held', () => {
    expect(available({ quantity: 10, reservedQuantity: 4, allocatedQuantity: 6 })).toBe(0);
  });
});

describe('lotInvariantViolations', () => {
  it('finds nothing wrong with a sound lot', () => {
    expect(lotInvariantViolations({ quantity: 10, reservedQuantity: 4, allocatedQuantity: 6 })).toEqual([]);
  });

  it('names each negative quantity', () => {
    expect(lotInvariantViolations({ quantity: -1, reservedQuantity: -2, allocatedQuantity: 0 })).toEqual([
      'quantity must not be negative, got -1',
      'reservedQuantity must not be negative, got -2',
    ]);
  });

  it('names reserved plus allocated exceeding the quantity on hand', () => {
    expect(lotInvariantViolations({ quantity: 10, reservedQuantity: 6, allocatedQuantity: 5 })).toEqual([
      'reservedQuantity + allocatedQuantity (11) exceeds quantity (10)',
    ]);
  });

  it('names quantities that are not whole numbers', () => {
    expect(lotInvariantViolations({ quantity: 10.5, reservedQuantity: 0, allocatedQuantity: Number.NaN })).toEqual([
      'quantity must be a whole number, got 10.5',
      'allocatedQuantity must be a whole number, got NaN',
    ]);
  });

  it('names every broken invariant at once', () => {
    expect(lotInvariantViolations({ quantity: 3, reservedQuantity: -1, allocatedQuantity: 7 })).toHaveLength(2);
  });
});
