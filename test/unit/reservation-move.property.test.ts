import fc from 'fast-check';
import { heldOf } from '../../src/domain/reservation';
import { planMove, type MovableLine, type MoveItem } from '../../src/domain/reservation-move';

const products = ['p-1', 'p-2'] as const;
const warehouses = ['wh-a', 'wh-b'] as const;

const linesArb: fc.Arbitrary<MovableLine[]> = fc
  .array(
    fc.record({
      product: fc.constantFrom(...products),
      warehouse: fc.constantFrom(...warehouses),
      held: fc.nat({ max: 6 }),
      allocated: fc.nat({ max: 2 }),
      released: fc.nat({ max: 2 }),
      moved: fc.nat({ max: 2 }),
    }),
    { maxLength: 6 },
  )
  .map((seeds) =>
    seeds.map((seed, index) => ({
      id: `line-${index}`,
      lotId: `lot-${index}`,
      productId: seed.product,
      warehouseId: seed.warehouse,
      quantity: seed.held + seed.allocated + seed.released + seed.moved,
      allocatedQuantity: seed.allocated,
      releasedQuantity: seed.released,
      movedQuantity: seed.moved,
    })),
  );

const itemsArb: fc.Arbitrary<MoveItem[]> = fc.array(
  fc.record({
    productId: fc.constantFrom(...products),
    quantity: fc.integer({ min: 1, max: 8 }),
    warehouseId: fc.option(fc.constantFrom(...warehouses), { nil: undefined }),
  }),
  { minLength: 1, maxLength: 3 },
);

const total = (values: readonly { quantity: number }[]) => values.reduce((sum, value) => sum + value.quantity, 0);

describe('planMove', () => {
  it('never moves more from a line than it holds, nor from a line of another product or warehouse', () => {
    fc.assert(
      fc.property(linesArb, itemsArb, (lines, items) => {
        const plan = planMove(lines, items);
        for (const move of plan.moves) {
          const line = lines.find((candidate) => candidate.id === move.lineId)!;
          expect(move.quantity).toBeGreaterThan(0);
          expect(move.quantity).toBeLessThanOrEqual(heldOf(line));
          expect([move.lotId, move.productId, move.warehouseId]).toEqual([line.lotId, line.productId, line.warehouseId]);
          expect(items.some((item) => item.productId === line.productId && (item.warehouseId ?? line.warehouseId) === line.warehouseId)).toBe(true);
        }
      }),
    );
  });

  it('moves exactly what the items ask, or nothing and names a shortfall', () => {
    fc.assert(
      fc.property(linesArb, itemsArb, (lines, items) => {
        const plan = planMove(lines, items);
        if (plan.shortfalls.length > 0) {
          expect(plan.moves).toEqual([]);
          for (const shortfall of plan.shortfalls) expect(shortfall.held).toBeLessThan(shortfall.requested);
        } else {
          expect(total(plan.moves)).toBe(total(items));
          for (const product of products) {
            expect(total(plan.moves.filter((move) => move.productId === product))).toBe(total(items.filter((item) => item.productId === product)));
          }
        }
      }),
    );
  });

  it('moves every held unit when no items are named', () => {
    fc.assert(
      fc.property(linesArb, (lines) => {
        const plan = planMove(lines);
        expect(plan.shortfalls).toEqual([]);
        expect(plan.moves.map((move) => [move.lineId, move.quantity])).toEqual(lines.filter((line) => heldOf(line) > 0).map((line) => [line.id, heldOf(line)]));
      }),
    );
  });

  it('takes from the lines in the order they were taken', () => {
    const line = (id: string, held: number): MovableLine => ({
      id,
      lotId: `lot-${id}`,
      productId: 'p-1',
      warehouseId: 'wh-a',
      quantity: held,
      allocatedQuantity: 0,
      releasedQuantity: 0,
      movedQuantity: 0,
    });
    expect(planMove([line('a', 2), line('b', 5), line('c', 5)], [{ productId: 'p-1', quantity: 4 }]).moves.map((move) => [move.lineId, move.quantity])).toEqual(
      [
        ['a', 2],
        ['b', 2],
      ],
    );
  });
});
