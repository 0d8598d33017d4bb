import { plan, planMany, type PlanRequest } from '../../src/domain/allocate';
import type { StrategyChoice } from '../../src/domain/strategies';
import { berlin, lot, lotId, madrid, now, paris } from './lot-fixtures';

const request = (
  lines: PlanRequest['lines'],
  overrides: Partial<Pick<PlanRequest, 'priority' | 'allowPartial'>> = {},
  choice: StrategyChoice = { strategy: 'fifo' },
): PlanRequest => ({
  lines,
  priority: 'medium',
  allowPartial: false,
  ...overrides,
  ...choice,
});

const totalTaken = (takes: readonly { quantity: number }[]): number => takes.reduce((sum, take) => sum + take.quantity, 0);

describe('plan', () => {
  const stock = [
    lot({ n: 1, warehouse: berlin, available: 10, received: 1 }),
    lot({ n: 2, warehouse: paris, available: 10, received: 2 }),
    lot({ n: 3, warehouse: madrid, available: 5, received: 0, productId: 'sku-2' }),
  ];

  it('takes every line in full and says complete when stock suffices', () => {
    expect(plan(request([{ productId: 'sku-1', quantity: 12 }]), stock, now)).toEqual({
      takes: [
        { lineIndex: 0, productId: 'sku-1', warehouseId: 'wh-berlin', lotId: lotId(1), lotNumber: 'LOT-1', quantity: 10 },
        { lineIndex: 0, productId: 'sku-1', warehouseId: 'wh-paris', lotId: lotId(2), lotNumber: 'LOT-2', quantity: 2 },
      ],
      shortfalls: [],
      outcome: 'complete',
    });
  });

  it('uses only lots of the line product', () => {
    const result = plan(request([{ productId: 'sku-2', quantity: 5 }]), stock, now);
    expect(result.takes.map((take) => take.lotId)).toEqual([lotId(3)]);
  });

  it('reserves nothing when any line is short and allowPartial is false', () => {
    const result = plan(
      request([
        { productId: 'sku-2', quantity: 5 },
        { productId: 'sku-1', quantity: 25 },
      ]),
      stock,
      now,
    );
    expect(result).toEqual({
      takes: [],
      shortfalls: [{ lineIndex: 1, productId: 'sku-1', requested: 25, available: 20, missing: 5 }],
      outcome: 'none',
    });
  });

  it('lists every short line with what it could have had when refusing all-or-nothing', () => {
    const result = plan(
      request([
        { productId: 'sku-2', quantity: 7 },
        { productId: 'sku-1', quantity: 25 },
      ]),
      stock,
      now,
    );
    expect(result.shortfalls).toEqual([
      { lineIndex: 0, productId: 'sku-2', requested: 7, available: 5, missing: 2 },
      { lineIndex: 1, productId: 'sku-1', requested: 25, available: 20, missing: 5 },
    ]);
  });

  it('takes what exists of a short line and says partial when allowPartial is true', () => {
    const result = plan(
      request(
        [
          { productId: 'sku-2', quantity: 5 },
          { productId: 'sku-1', quantity: 25 },
        ],
        { allowPartial: true },
      ),
      stock,
      now,
    );
    expect(result.outcome).toBe('partial');
    expect(result.takes.map((take) => [take.lineIndex, take.lotId, take.quantity])).toEqual([
      [0, lotId(3), 5],
      [1, lotId(1), 10],
      [1, lotId(2), 10],
    ]);
    expect(result.shortfalls).toEqual([{ lineIndex: 1, productId: 'sku-1', requested: 25, available: 20, missing: 5 }]);
  });

  it('says none when allowPartial is true but nothing at all can be taken', () => {
    expect(plan(request([{ productId: 'sku-2', quantity: 9 }], { allowPartial: true }), [], now)).toEqual({
      takes: [],
      shortfalls: [{ lineIndex: 0, productId: 'sku-2', requested: 9, available: 0, missing: 9 }],
      outcome: 'none',
    });
  });

  it('gives an unknown product a shortfall with available 0', () => {
    const result = plan(
      request(
        [
          { productId: 'sku-1', quantity: 3 },
          { productId: 'no-such-sku', quantity: 4 },
        ],
        { allowPartial: true },
      ),
      stock,
      now,
    );
    expect(result.outcome).toBe('partial');
    expect(result.shortfalls).toEqual([{ lineIndex: 1, productId: 'no-such-sku', requested: 4, available: 0, missing: 4 }]);
  });

  it('serves a pinned line only from its warehouse, even when another holds older stock', () => {
    const result = plan(request([{ productId: 'sku-1', quantity: 4, warehouseId: 'wh-paris' }]), stock, now);
    expect(result.takes.map((take) => [take.warehouseId, take.quantity])).toEqual([['wh-paris', 4]]);
  });

  it('counts only the pinned warehouse stock as available to a pinned line', () => {
    const result = plan(request([{ productId: 'sku-1', quantity: 15, warehouseId: 'wh-berlin' }]), stock, now);
    expect(result).toEqual({
      takes: [],
      shortfalls: [{ lineIndex: 0, productId: 'sku-1', requested: 15, available: 10, missing: 5 }],
      outcome: 'none',
    });
  });

  it('lets a second line of the same product see only what the first left', () => {
    const result = plan(
      request(
        [
          { productId: 'sku-1', quantity: 15 },
          { productId: 'sku-1', quantity: 8 },
        ],
        { allowPartial: true },
      ),
      stock,
      now,
    );
    expect(result.takes.map((take) => [take.lineIndex, take.lotId, take.quantity])).toEqual([
      [0, lotId(1), 10],
      [0, lotId(2), 5],
      [1, lotId(2), 5],
    ]);
    expect(result.shortfalls).toEqual([{ lineIndex: 1, productId: 'sku-1', requested: 8, available: 5, missing: 3 }]);
  });

  it('lets an unpinned line see what a pinned line of the same product left', () => {
    const result = plan(
      request([
        { productId: 'sku-1', quantity: 10, warehouseId: 'wh-paris' },
        { productId: 'sku-1', quantity: 10 },
      ]),
      stock,
      now,
    );
    expect(result.outcome).toBe('complete');
    expect(result.takes.map((take) => [take.lineIndex, take.lotId, take.quantity])).toEqual([
      [0, lotId(2), 10],
      [1, lotId(1), 10],
    ]);
  });

  it('never takes from an expired lot', () => {
    const lots = [lot({ n: 1, available: 50, received: 0, expires: 90 }), lot({ n: 2, available: 5, received: 3 })];
    expect(plan(request([{ productId: 'sku-1', quantity: 8 }], { allowPartial: true }), lots, now).takes.map((take) => [take.lotId, take.quantity])).toEqual([
      [lotId(2), 5],
    ]);
  });

  it('passes the destination to nearest_location', () => {
    const result = plan(
      request([{ productId: 'sku-1', quantity: 3 }], {}, { strategy: 'nearest_location', destination: { latitude: 48.85, longitude: 2.35 } }),
      stock,
      now,
    );
    expect(result.takes.map((take) => take.warehouseId)).toEqual(['wh-paris']);
  });

  it('throws when two candidate lots share an id', () => {
    expect(() => plan(request([{ productId: 'sku-1', quantity: 1 }]), [lot({ n: 1 }), lot({ n: 1 })], now)).toThrow('appears twice');
  });

  it('leaves the request and the lots as it found them', () => {
    const lots = [lot({ n: 1, available: 4 }), lot({ n: 2, available: 4, received: 2 })];
    const req = request([{ productId: 'sku-1', quantity: 6 }]);
    const before = structuredClone({ lots, req });
    plan(req, lots, now);
    expect({ lots, req }).toEqual(before);
  });
});

describe('planMany', () => {
  const hotProduct = [lot({ n: 1, available: 60, received: 1 }), lot({ n: 2, available: 40, received: 2 })];
  const tenRequestsOf15 = (allowPartial: boolean) => Array.from({ length: 10 }, () => request([{ productId: 'sku-1', quantity: 15 }], { allowPartial }));

  it('serves exactly 6 of 10 all-or-nothing requests for 15 against 100 in stock', () => {
    const plans = planMany(tenRequestsOf15(false), hotProduct, now);
    expect(plans.map((p) => p.outcome)).toEqual([...Array(6).fill('complete'), ...Array(4).fill('none')]);
    expect(totalTaken(plans.flatMap((p) => p.takes))).toBe(90);
    expect(plans[6]?.shortfalls).toEqual([{ lineIndex: 0, productId: 'sku-1', requested: 15, available: 10, missing: 5 }]);
    expect(plans[9]?.shortfalls).toEqual([{ lineIndex: 0, productId: 'sku-1', requested: 15, available: 10, missing: 5 }]);
  });

  it('gives the seventh partial request the last 10 and the rest nothing', () => {
    const plans = planMany(tenRequestsOf15(true), hotProduct, now);
    expect(plans.map((p) => p.outcome)).toEqual([...Array(6).fill('complete'), 'partial', ...Array(3).fill('none')]);
    expect(plans.map((p) => totalTaken(p.takes))).toEqual([15, 15, 15, 15, 15, 15, 10, 0, 0, 0]);
    expect(totalTaken(plans.flatMap((p) => p.takes))).toBe(100);
  });

  it('lets a later request use the stock a refused all-or-nothing request left untouched', () => {
    const plans = planMany([request([{ productId: 'sku-1', quantity: 200 }]), request([{ productId: 'sku-1', quantity: 100 }])], hotProduct, now);
    expect(plans.map((p) => p.outcome)).toEqual(['none', 'complete']);
  });

  it('serves requests in the order given, each with its own strategy', () => {
    const plans = planMany(
      [request([{ productId: 'sku-1', quantity: 50 }], {}, { strategy: 'lifo' }), request([{ productId: 'sku-1', quantity: 50 }])],
      hotProduct,
      now,
    );
    expect(plans.map((p) => p.takes.map((take) => [take.lotId, take.quantity]))).toEqual([
      [
        [lotId(2), 40],
        [lotId(1), 10],
      ],
      [[lotId(1), 50]],
    ]);
  });

  it('gives the same plan for a single request as plan does', () => {
    const req = request([{ productId: 'sku-1', quantity: 70 }]);
    expect(planMany([req], hotProduct, now)).toEqual([plan(req, hotProduct, now)]);
  });

  it('returns no plans for no requests', () => {
    expect(planMany([], hotProduct, now)).toEqual([]);
  });
});
