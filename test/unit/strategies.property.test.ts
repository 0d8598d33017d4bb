import fc from 'fast-check';
import { priorities } from '../../src/domain/priority';
import { chooseTakes, orderLots, strategies, type CandidateLot, type StrategyContext } from '../../src/domain/strategies';
import { now } from './lot-fixtures';
import { lotsArb, shuffled } from './lot-arbitraries';

fc.configureGlobal({ numRuns: 300 });

const contextArb = (strategy = fc.constantFrom(...strategies)): fc.Arbitrary<StrategyContext> =>
  fc.record({
    strategy,
    priority: fc.constantFrom(...priorities),
    destination: fc.record({ latitude: fc.double({ min: -90, max: 90, noNaN: true }), longitude: fc.double({ min: -180, max: 180, noNaN: true }) }),
    now: fc.constant(now),
  });

const quantityArb = fc.nat({ max: 150 });

const serving = (lots: readonly CandidateLot[]) =>
  lots.filter((lot) => lot.available > 0 && (lot.expiresAt === null || lot.expiresAt > now) && lot.warehouse.active);

const sum = (values: Iterable<number>): number => [...values].reduce((total, value) => total + value, 0);

const byWarehouse = (lots: readonly CandidateLot[], quantityOf: (lot: CandidateLot) => number): Map<string, number> => {
  const totals = new Map<string, number>();
  for (const lot of lots) totals.set(lot.warehouseId, (totals.get(lot.warehouseId) ?? 0) + quantityOf(lot));
  return totals;
};

describe('strategy properties', () => {
  it('orders exactly the lots that can serve', () => {
    fc.assert(
      fc.property(lotsArb, contextArb(), (lots, ctx) => {
        const ids = (list: readonly CandidateLot[]) => list.map((lot) => lot.id).sort();
        expect(ids(orderLots(lots, ctx))).toEqual(ids(serving(lots)));
      }),
    );
  });

  it('orders the same whatever the order of the input', () => {
    fc.assert(
      fc.property(
        lotsArb.chain((lots) => fc.tuple(fc.constant(lots), shuffled(lots))),
        contextArb(),
        ([lots, reordered], ctx) => {
          expect(orderLots(reordered, ctx)).toEqual(orderLots(lots, ctx));
        },
      ),
    );
  });

  it('takes min(quantity, what can serve) in positive whole units', () => {
    fc.assert(
      fc.property(lotsArb, quantityArb, contextArb(), (lots, quantity, ctx) => {
        const takes = chooseTakes(lots, quantity, ctx);
        for (const take of takes) expect(Number.isSafeInteger(take.quantity) && take.quantity > 0).toBe(true);
        expect(sum(takes.map((take) => take.quantity))).toBe(Math.min(quantity, sum(serving(lots).map((lot) => lot.available))));
      }),
    );
  });

  it('takes greedily in the strategy order, draining every lot but the last it touches', () => {
    const orderingStrategies = strategies.filter((strategy) => strategy !== 'load_balancing');
    fc.assert(
      fc.property(lotsArb, quantityArb, contextArb(fc.constantFrom(...orderingStrategies)), (lots, quantity, ctx) => {
        const ordered = orderLots(lots, ctx);
        const takes = chooseTakes(lots, quantity, ctx);
        expect(takes.map((take) => take.lotId)).toEqual(ordered.slice(0, takes.length).map((lot) => lot.id));
        takes.slice(0, -1).forEach((take, index) => expect(take.quantity).toBe(ordered[index]!.available));
      }),
    );
  });

  it('load_balancing gives each warehouse its proportional share to within one unit, never more than it has', () => {
    fc.assert(
      fc.property(lotsArb, quantityArb, contextArb(fc.constant('load_balancing')), (lots, quantity, ctx) => {
        const stock = byWarehouse(serving(lots), (lot) => lot.available);
        const total = sum(stock.values());
        const wanted = Math.min(quantity, total);
        const lotsById = new Map(lots.map((lot) => [lot.id, lot]));
        const takes = chooseTakes(lots, quantity, ctx);
        const taken = new Map<string, number>();
        for (const take of takes) {
          const warehouseId = lotsById.get(take.lotId)!.warehouseId;
          taken.set(warehouseId, (taken.get(warehouseId) ?? 0) + take.quantity);
        }
        for (const [warehouseId, available] of stock) {
          const share = taken.get(warehouseId) ?? 0;
          expect(share).toBeLessThanOrEqual(available);
          expect(Math.abs(share - (wanted * available) / total)).toBeLessThan(1);
        }
      }),
    );
  });

  it('load_balancing takes FIFO within each warehouse', () => {
    fc.assert(
      fc.property(lotsArb, quantityArb, contextArb(fc.constant('load_balancing')), (lots, quantity, ctx) => {
        const fifo = orderLots(lots, { ...ctx, strategy: 'fifo' });
        const takes = new Map(chooseTakes(lots, quantity, ctx).map((take) => [take.lotId, take.quantity]));
        // within a warehouse, a lot gives anything only once every older lot of that warehouse is drained
        const undrainedSeen = new Set<string>();
        for (const lot of fifo) {
          const taken = takes.get(lot.id) ?? 0;
          if (taken > 0) expect(undrainedSeen.has(lot.warehouseId)).toBe(false);
          if (taken < lot.available) undrainedSeen.add(lot.warehouseId);
        }
      }),
    );
  });
});
