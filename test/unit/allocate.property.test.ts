import fc from 'fast-check';
import { plan, planMany, sameCandidates, type LotTake, type Plan, type PlanLine, type PlanRequest } from '../../src/domain/allocate';
import type { CandidateLot } from '../../src/domain/strategies';
import { day, now } from './lot-fixtures';
import { lotsArb, requestArb, shuffled } from './lot-arbitraries';

fc.configureGlobal({ numRuns: 300 });

const batchArb = fc.array(requestArb, { minLength: 1, maxLength: 6 });

const isExpired = (lot: CandidateLot) => lot.expiresAt !== null && lot.expiresAt.getTime() <= now.getTime();

const servesLine = (lot: CandidateLot, line: PlanLine) =>
  lot.productId === line.productId && (line.warehouseId === undefined || lot.warehouseId === line.warehouseId) && !isExpired(lot) && lot.warehouse.active;

const takenByLot = (takes: readonly LotTake[]): Map<string, number> => {
  const taken = new Map<string, number>();
  for (const take of takes) taken.set(take.lotId, (taken.get(take.lotId) ?? 0) + take.quantity);
  return taken;
};

const takenByLine = (result: Plan, lineIndex: number): number =>
  result.takes.filter((take) => take.lineIndex === lineIndex).reduce((sum, take) => sum + take.quantity, 0);

describe('plan properties', () => {
  it('never takes more than a lot has available', () => {
    fc.assert(
      fc.property(requestArb, lotsArb, (request, lots) => {
        const taken = takenByLot(plan(request, lots, now).takes);
        for (const lot of lots) expect(taken.get(lot.id) ?? 0).toBeLessThanOrEqual(Math.max(lot.available, 0));
      }),
    );
  });

  it('never takes more than a lot has available across a whole batch', () => {
    fc.assert(
      fc.property(batchArb, lotsArb, (requests, lots) => {
        const taken = takenByLot(planMany(requests, lots, now).flatMap((result) => result.takes));
        for (const lot of lots) expect(taken.get(lot.id) ?? 0).toBeLessThanOrEqual(Math.max(lot.available, 0));
      }),
    );
  });

  it('takes positive whole units from lots of the line product and pinned warehouse only', () => {
    fc.assert(
      fc.property(batchArb, lotsArb, (requests, lots) => {
        const byId = new Map(lots.map((lot) => [lot.id, lot]));
        planMany(requests, lots, now).forEach((result, index) => {
          for (const take of result.takes) {
            expect(Number.isSafeInteger(take.quantity) && take.quantity > 0).toBe(true);
            const line = requests[index]!.lines[take.lineIndex]!;
            const lot = byId.get(take.lotId)!;
            expect(servesLine(lot, line)).toBe(true);
            expect(take).toMatchObject({ productId: line.productId, warehouseId: lot.warehouseId, lotNumber: lot.lotNumber });
          }
        });
      }),
    );
  });

  it('never takes from an expired lot', () => {
    fc.assert(
      fc.property(batchArb, lotsArb, (requests, lots) => {
        const expired = new Set(lots.filter(isExpired).map((lot) => lot.id));
        for (const take of planMany(requests, lots, now).flatMap((result) => result.takes)) expect(expired.has(take.lotId)).toBe(false);
      }),
    );
  });

  it('never takes from a lot of a deactivated warehouse', () => {
    fc.assert(
      fc.property(batchArb, lotsArb, (requests, lots) => {
        const closed = new Set(lots.filter((lot) => !lot.warehouse.active).map((lot) => lot.id));
        for (const take of planMany(requests, lots, now).flatMap((result) => result.takes)) expect(closed.has(take.lotId)).toBe(false);
      }),
    );
  });

  it('takes exactly min(requested, available) for each line of a partial plan', () => {
    fc.assert(
      fc.property(requestArb, lotsArb, (request, lots) => {
        const partial: PlanRequest = { ...request, allowPartial: true };
        const result = plan(partial, lots, now);
        const left = new Map(lots.map((lot) => [lot.id, lot.available]));
        partial.lines.forEach((line, lineIndex) => {
          const available = lots.filter((lot) => servesLine(lot, line)).reduce((sum, lot) => sum + Math.max(left.get(lot.id) ?? 0, 0), 0);
          const got = takenByLine(result, lineIndex);
          expect(got).toBe(Math.min(line.quantity, available));
          const shortfall = result.shortfalls.find((entry) => entry.lineIndex === lineIndex);
          if (got < line.quantity) {
            expect(shortfall).toEqual({ lineIndex, productId: line.productId, requested: line.quantity, available: got, missing: line.quantity - got });
          } else {
            expect(shortfall).toBeUndefined();
          }
          for (const take of result.takes.filter((entry) => entry.lineIndex === lineIndex)) left.set(take.lotId, (left.get(take.lotId) ?? 0) - take.quantity);
        });
        const expected = result.shortfalls.length === 0 ? 'complete' : result.takes.length > 0 ? 'partial' : 'none';
        expect(result.outcome).toBe(expected);
      }),
    );
  });

  it('takes every line in full or nothing at all when allowPartial is false', () => {
    fc.assert(
      fc.property(requestArb, lotsArb, (request, lots) => {
        const strict = plan({ ...request, allowPartial: false }, lots, now);
        const lenient = plan({ ...request, allowPartial: true }, lots, now);
        expect(strict.shortfalls).toEqual(lenient.shortfalls);
        if (lenient.shortfalls.length === 0) {
          expect(strict).toEqual(lenient);
          expect(strict.outcome).toBe('complete');
          request.lines.forEach((line, lineIndex) => expect(takenByLine(strict, lineIndex)).toBe(line.quantity));
        } else {
          expect(strict).toEqual({ takes: [], shortfalls: lenient.shortfalls, outcome: 'none' });
        }
      }),
    );
  });

  it('gives the same plan for the same input, whatever the order of the lots', () => {
    fc.assert(
      fc.property(
        requestArb,
        lotsArb.chain((lots) => fc.tuple(fc.constant(lots), shuffled(lots))),
        (request, [lots, reordered]) => {
          const first = plan(request, lots, now);
          expect(plan(request, lots, now)).toEqual(first);
          expect(plan(request, reordered, now)).toEqual(first);
        },
      ),
    );
  });

  it('gives the same batch plans whatever the order of the lots', () => {
    fc.assert(
      fc.property(
        batchArb,
        lotsArb.chain((lots) => fc.tuple(fc.constant(lots), shuffled(lots))),
        (requests, [lots, reordered]) => {
          expect(planMany(requests, reordered, now)).toEqual(planMany(requests, lots, now));
        },
      ),
    );
  });

  it('plans each request of a batch as plan would against what the earlier ones left', () => {
    fc.assert(
      fc.property(batchArb, lotsArb, (requests, lots) => {
        let left = lots;
        planMany(requests, lots, now).forEach((result, index) => {
          expect(result).toEqual(plan(requests[index]!, left, now));
          const taken = takenByLot(result.takes);
          left = left.map((lot) => ({ ...lot, available: lot.available - (taken.get(lot.id) ?? 0) }));
        });
      }),
    );
  });

  it('leaves the requests and the lots as it found them', () => {
    fc.assert(
      fc.property(batchArb, lotsArb, (requests, lots) => {
        const before = structuredClone({ requests, lots });
        planMany(requests, lots, now);
        expect({ requests, lots }).toEqual(before);
      }),
    );
  });
});

/** A fresh read of the same lots: equal facts in new objects. */
const reread = (lots: readonly CandidateLot[]): CandidateLot[] =>
  lots.map((lot) => ({
    ...lot,
    receivedAt: new Date(lot.receivedAt.getTime()),
    expiresAt: lot.expiresAt === null ? null : new Date(lot.expiresAt.getTime()),
    warehouse: { ...lot.warehouse },
  }));

/** The lots as a batch may find them once it has locked them: as it read them, or changed meanwhile by another writer. */
const lockedArb = (lots: readonly CandidateLot[]): fc.Arbitrary<CandidateLot[]> => {
  const one = <T>(change: (lot: CandidateLot, value: T) => CandidateLot, value: fc.Arbitrary<T>) =>
    fc.tuple(fc.nat({ max: Math.max(0, lots.length - 1) }), value).map(([at, v]) => reread(lots).map((lot, index) => (index === at ? change(lot, v) : lot)));
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(reread(lots)) },
    one((lot, available: number) => ({ ...lot, available }), fc.nat({ max: 40 })),
    one(
      (lot, expires: number | null) => ({ ...lot, expiresAt: expires === null ? null : day(expires) }),
      fc.option(fc.integer({ min: 95, max: 110 }), { nil: null }),
    ),
    one((lot, priority: number) => ({ ...lot, warehouse: { ...lot.warehouse, priority } }), fc.integer({ min: 0, max: 2 })),
    one((lot, active: boolean) => ({ ...lot, warehouse: { ...lot.warehouse, active } }), fc.boolean()),
    fc.nat({ max: Math.max(0, lots.length - 1) }).map((at) => reread(lots).filter((_, index) => index !== at)),
    lotsArb.map((more) => [...reread(lots), ...more]),
  );
};

describe('planning before the lock', () => {
  it('keeps plans made against the lots as read only when they are what planning against the locked lots gives', () => {
    fc.assert(
      fc.property(
        batchArb,
        lotsArb.chain((lots) => fc.tuple(fc.constant(lots), lockedArb(lots))),
        (requests, [read, locked]) => {
          const early = planMany(requests, read, now);
          const kept = sameCandidates(read, locked) ? early : planMany(requests, locked, now);
          expect(kept).toEqual(planMany(requests, locked, now));
        },
      ),
    );
  });

  it('finds lots read again unchanged the same, and any lot changed, missing or added not', () => {
    fc.assert(
      fc.property(
        lotsArb.filter((lots) => lots.length > 0),
        fc.nat(),
        (lots, pick) => {
          expect(sameCandidates(lots, reread(lots))).toBe(true);
          const at = pick % lots.length;
          const lot = lots[at]!;
          const changed: CandidateLot[] = [
            { ...lot, available: lot.available + 1 },
            { ...lot, receivedAt: new Date(lot.receivedAt.getTime() + 1) },
            { ...lot, expiresAt: lot.expiresAt === null ? now : null },
            { ...lot, unitCost: lot.unitCost === null ? 1 : null },
            { ...lot, lotNumber: `${lot.lotNumber ?? ''}x` },
            { ...lot, warehouse: { ...lot.warehouse, premium: !lot.warehouse.premium } },
          ];
          for (const other of changed)
            expect(
              sameCandidates(
                lots,
                lots.map((each, index) => (index === at ? other : each)),
              ),
            ).toBe(false);
          expect(sameCandidates(lots, lots.slice(1))).toBe(false);
          expect(sameCandidates(lots, [...lots, lot])).toBe(false);
        },
      ),
    );
  });
});
