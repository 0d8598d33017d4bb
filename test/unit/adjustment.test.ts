import fc from 'fast-check';
import { adjustmentTypes, planAdjustments, type AdjustmentLine, type ExistingLot } from '../../src/domain/adjustment';
import { takeOldestFirst } from '../../src/domain/removal';

const now = new Date('2025-01-10T00:00:00Z');
const day = (n: number) => new Date(Date.UTC(2025, 0, n));

function lot(id: string, receivedDay: number, quantity: number, held: { reserved?: number; allocated?: number; warehouseId?: string } = {}): ExistingLot {
  return {
    id,
    productId: 'p',
    warehouseId: held.warehouseId ?? 'wh',
    receivedAt: day(receivedDay),
    quantity,
    reservedQuantity: held.reserved ?? 0,
    allocatedQuantity: held.allocated ?? 0,
    version: 3,
  };
}

const line = (type: AdjustmentLine['type'], quantity: number, extra: Partial<AdjustmentLine> = {}): AdjustmentLine => ({
  productId: 'p',
  warehouseId: 'wh',
  type,
  quantity,
  ...extra,
});

describe('takeOldestFirst', () => {
  const removable = (key: string, receivedDay: number, quantity: number, reservedQuantity = 0, allocatedQuantity = 0) => ({
    key,
    receivedAt: day(receivedDay),
    quantity,
    reservedQuantity,
    allocatedQuantity,
  });

  it('takes from the oldest lot first and breaks equal ages by key', () => {
    expect(takeOldestFirst([removable('b', 2, 5), removable('c', 1, 5), removable('a', 2, 5)], 12)).toEqual([
      { lotKey: 'c', quantity: 5 },
      { lotKey: 'a', quantity: 5 },
      { lotKey: 'b', quantity: 2 },
    ]);
  });

  it('takes only available units, never reserved or allocated ones', () => {
    expect(takeOldestFirst([removable('a', 1, 10, 4, 5), removable('b', 2, 3, 3)], 5)).toEqual([{ lotKey: 'a', quantity: 1 }]);
  });

  it('takes nothing for zero and refuses a fractional quantity', () => {
    expect(takeOldestFirst([removable('a', 1, 10)], 0)).toEqual([]);
    expect(() => takeOldestFirst([removable('a', 1, 10)], 1.5)).toThrow(/whole number/);
  });
});

describe('planAdjustments', () => {
  it('plans a receipt as a new lot with its facts, received now unless told otherwise', () => {
    const plan = planAdjustments([line('RECEIPT', 7, { newLot: { lotNumber: 'L1', unitCost: 2 } })], [], now);
    expect(plan).toEqual({
      ok: true,
      newLots: [{ key: 'new:0', productId: 'p', warehouseId: 'wh', lotNumber: 'L1', unitCost: 2, expiresAt: null, receivedAt: now, binLocation: null }],
      lines: [
        {
          index: 0,
          productId: 'p',
          warehouseId: 'wh',
          type: 'RECEIPT',
          adjustedQuantity: 7,
          previousQuantity: 0,
          newQuantity: 7,
          changes: [{ lotKey: 'new:0', quantityDelta: 7 }],
        },
      ],
    });
  });

  it('takes a shipment oldest first, across lots, only from the line’s warehouse', () => {
    const plan = planAdjustments([line('SHIPMENT', 8)], [lot('l2', 2, 5), lot('l1', 1, 5), lot('l0', 0, 50, { warehouseId: 'other' })], now);
    expect(plan.ok && plan.lines[0]).toMatchObject({
      previousQuantity: 10,
      newQuantity: 2,
      changes: [
        { lotKey: 'l1', quantityDelta: -5 },
        { lotKey: 'l2', quantityDelta: -3 },
      ],
    });
  });

  it('adds a positive correction to the newest lot, including one an earlier line created', () => {
    const plan = planAdjustments([line('RECEIPT', 1, { newLot: { receivedAt: day(9) } }), line('ADJUSTMENT', 2)], [lot('old', 1, 5)], now);
    expect(plan.ok && plan.lines[1]!.changes).toEqual([{ lotKey: 'new:0', quantityDelta: 2 }]);
  });

  it('reports every short line with what was available, and no changes', () => {
    const plan = planAdjustments(
      [line('WRITE_OFF', 3), line('SHIPMENT', 4), line('ADJUSTMENT', -1, { warehouseId: 'empty' })],
      [lot('l1', 1, 6, { reserved: 1 })],
      now,
    );
    expect(plan).toEqual({
      ok: false,
      problems: [
        { kind: 'insufficient_stock', line: 1, productId: 'p', warehouseId: 'wh', requested: 4, available: 2 },
        { kind: 'insufficient_stock', line: 2, productId: 'p', warehouseId: 'empty', requested: 1, available: 0 },
      ],
    });
  });

  it('reports a stale version and a lot of another warehouse', () => {
    const plan = planAdjustments(
      [line('SHIPMENT', 1, { lotId: 'l1', version: 2 }), line('SHIPMENT', 1, { lotId: 'l1', warehouseId: 'other' })],
      [lot('l1', 1, 6)],
      now,
    );
    expect(plan).toEqual({
      ok: false,
      problems: [
        { kind: 'version_conflict', line: 0, lotId: 'l1', expectedVersion: 2, actualVersion: 3 },
        { kind: 'unknown_lot', line: 1, lotId: 'l1', productId: 'p', warehouseId: 'other' },
      ],
    });
  });

  it('never leaves a lot holding less than its reserved and allocated units, and each line moves exactly its quantity', () => {
    const lotsArb = fc.array(fc.record({ receivedDay: fc.integer({ min: 1, max: 5 }), quantity: fc.nat({ max: 20 }), held: fc.nat({ max: 20 }) }), {
      maxLength: 5,
    });
    const linesArb = fc.array(
      fc.record({
        type: fc.constantFrom(...adjustmentTypes),
        quantity: fc.integer({ min: 1, max: 30 }),
        negative: fc.boolean(),
        warehouseId: fc.constantFrom('wh', 'other'),
      }),
      { minLength: 1, maxLength: 6 },
    );
    fc.assert(
      fc.property(lotsArb, linesArb, (seeds, seedLines) => {
        const lots = seeds.map((seed, index) => lot(`l${index}`, seed.receivedDay, seed.quantity, { reserved: Math.min(seed.held, seed.quantity) }));
        const lines = seedLines.map((seed) =>
          line(seed.type, seed.type === 'ADJUSTMENT' && seed.negative ? -seed.quantity : seed.quantity, { warehouseId: seed.warehouseId }),
        );
        const plan = planAdjustments(lines, lots, now);
        if (!plan.ok) return;
        const quantity = new Map(lots.map((existing) => [existing.id, existing.quantity]));
        for (const planned of plan.lines) {
          const moved = planned.changes.reduce((sum, change) => sum + change.quantityDelta, 0);
          expect(moved).toBe(planned.adjustedQuantity);
          expect(Math.abs(moved)).toBe(seedLines[planned.index]!.quantity);
          for (const change of planned.changes) quantity.set(change.lotKey, (quantity.get(change.lotKey) ?? 0) + change.quantityDelta);
        }
        for (const existing of lots) expect(quantity.get(existing.id)!).toBeGreaterThanOrEqual(existing.reservedQuantity + existing.allocatedQuantity);
        for (const created of plan.newLots) expect(quantity.get(created.key)!).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 300 },
    );
  });
});
