/** fast-check generators for candidate lots and plan requests, small enough that ties, expiries and shortages are common. */
import fc from 'fast-check';
import type { PlanLine, PlanRequest } from '../../src/domain/allocate';
import { priorities } from '../../src/domain/priority';
import { strategies, type CandidateLot } from '../../src/domain/strategies';
import { day } from './lot-fixtures';

export const productIds = ['sku-1', 'sku-2'] as const;
export const warehouseIds = ['wh-a', 'wh-b', 'wh-c'] as const;

const warehouseArb = fc.record({
  latitude: fc.option(fc.double({ min: -90, max: 90, noNaN: true }), { nil: null }),
  longitude: fc.option(fc.double({ min: -180, max: 180, noNaN: true }), { nil: null }),
  premium: fc.boolean(),
  priority: fc.integer({ min: 0, max: 2 }),
  // a deactivated warehouse now and then: its lots never serve
  active: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
});

const lotSeedArb = fc.record({
  id: fc.uuid(),
  product: fc.constantFrom(...productIds),
  warehouse: fc.nat({ max: warehouseIds.length - 1 }),
  lotNumber: fc.option(fc.string({ maxLength: 6 }), { nil: null }),
  available: fc.nat({ max: 40 }),
  received: fc.nat({ max: 10 }),
  // the clock is day 100, so roughly a third of dated lots have expired
  expires: fc.option(fc.integer({ min: 95, max: 110 }), { nil: null }),
  unitCost: fc.option(fc.constantFrom(1, 2.5, 3), { nil: null }),
});

/** Lots of two products across three warehouses; every lot of a warehouse shares its coordinates, premium flag, priority and active flag. */
export const lotsArb: fc.Arbitrary<CandidateLot[]> = fc
  .tuple(
    fc.array(warehouseArb, { minLength: warehouseIds.length, maxLength: warehouseIds.length }),
    fc.uniqueArray(lotSeedArb, { selector: (seed) => seed.id, maxLength: 16, size: 'medium' }),
  )
  .map(([warehouses, seeds]) =>
    seeds.map((seed) => ({
      id: seed.id,
      productId: seed.product,
      warehouseId: warehouseIds[seed.warehouse]!,
      lotNumber: seed.lotNumber,
      available: seed.available,
      receivedAt: day(seed.received),
      expiresAt: seed.expires === null ? null : day(seed.expires),
      unitCost: seed.unitCost,
      warehouse: warehouses[seed.warehouse]!,
    })),
  );

const lineArb: fc.Arbitrary<PlanLine> = fc.record(
  {
    productId: fc.oneof({ arbitrary: fc.constantFrom(...productIds), weight: 5 }, { arbitrary: fc.constant('sku-unknown'), weight: 1 }),
    // mostly small lines so complete plans are common, some large ones so shortages are too
    quantity: fc.oneof({ arbitrary: fc.nat({ max: 12 }), weight: 3 }, { arbitrary: fc.nat({ max: 80 }), weight: 1 }),
    warehouseId: fc.constantFrom(...warehouseIds),
  },
  { requiredKeys: ['productId', 'quantity'] },
);

/** A request of one to three lines under any strategy; every request carries a destination so nearest_location can run. */
export const requestArb: fc.Arbitrary<PlanRequest> = fc.record({
  lines: fc.array(lineArb, { minLength: 1, maxLength: 3 }),
  strategy: fc.constantFrom(...strategies),
  priority: fc.constantFrom(...priorities),
  allowPartial: fc.boolean(),
  destination: fc.record({ latitude: fc.double({ min: -90, max: 90, noNaN: true }), longitude: fc.double({ min: -180, max: 180, noNaN: true }) }),
});

/** The same lots in another order. */
export const shuffled = <T>(items: readonly T[]): fc.Arbitrary<T[]> => fc.shuffledSubarray([...items], { minLength: items.length, maxLength: items.length });
