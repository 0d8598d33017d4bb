import { retryDelayMs } from '../../src/events/relay';
import { productLinesOf, stockLinesOf } from '../../src/domain/stock-lines';

describe('event lines', () => {
  it('sums quantities per product and warehouse in first-seen order and leaves out zeros', () => {
    expect(
      stockLinesOf([
        { productId: 'p-1', warehouseId: 'wh-2', quantity: 2 },
        { productId: 'p-1', warehouseId: 'wh-1', quantity: 1 },
        { productId: 'p-1', warehouseId: 'wh-2', quantity: 3 },
        { productId: 'p-2', warehouseId: 'wh-1', quantity: 0 },
      ]),
    ).toEqual([
      { productId: 'p-1', warehouseId: 'wh-2', quantity: 5 },
      { productId: 'p-1', warehouseId: 'wh-1', quantity: 1 },
    ]);
  });

  it('sums transfer quantities per product', () => {
    expect(
      productLinesOf([
        { productId: 'a', quantity: 1 },
        { productId: 'b', quantity: 2 },
        { productId: 'a', quantity: 4 },
      ]),
    ).toEqual([
      { productId: 'a', quantity: 5 },
      { productId: 'b', quantity: 2 },
    ]);
  });
});

describe('outbox retry delay', () => {
  it('doubles from the base with each failed attempt and stops at the cap', () => {
    const options = { retryBaseMs: 500, retryMaxMs: 300_000 };
    expect([0, 1, 2, 3].map((attempts) => retryDelayMs(attempts, options))).toEqual([500, 1000, 2000, 4000]);
    expect(retryDelayMs(20, options)).toBe(300_000);
    expect(retryDelayMs(10_000, options)).toBe(300_000);
  });
});
