import fc from 'fast-check';
import { plan, planMany, type LotTake } from '../../src/domain/allocate';
import type { StoredBackorder } from '../../src/domain/backorder';
import { settleFills, settleRequest, type FillableReservation, type SettleRequest } from '../../src/domain/settle';
import { priorities } from '../../src/domain/priority';
import { strategies, strategyChoice } from '../../src/domain/strategies';
import { now } from './lot-fixtures';
import { lotsArb, productIds, requestArb } from './lot-arbitraries';
import { backorder, sequentialIds } from './settle-fixtures';

fc.configureGlobal({ numRuns: 300 });

const sum = (quantities: readonly number[]) => quantities.reduce((total, quantity) => total + quantity, 0);
const held = (movement: { reservedDelta?: number; allocatedDelta?: number }) => (movement.reservedDelta ?? 0) + (movement.allocatedDelta ?? 0);
const takenOf = (takes: readonly LotTake[], lineIndex: number) => sum(takes.filter((take) => take.lineIndex === lineIndex).map((take) => take.quantity));

const settleArb = fc.record({
  request: requestArb,
  mode: fc.constantFrom('reserve' as const, 'allocate' as const),
  allowBackorder: fc.boolean(),
  unknownProduct: fc.boolean(),
});

const settled = fc.tuple(settleArb, lotsArb).map(([{ request, mode, allowBackorder, unknownProduct }, lots]) => {
  const wanted: SettleRequest = {
    ...request,
    mode,
    allowBackorder,
    owner: 'tenant-1',
    orderId: 'order-1',
    referenceType: 'order',
    holdMinutes: 30,
    actor: 'test',
  };
  const unknown = { products: new Set(unknownProduct ? ['sku-unknown'] : []), warehouses: new Set<string>() };
  const result = plan(request, lots, now);
  return { wanted, unknown, result, settlement: settleRequest(result, wanted, now, sequentialIds(), unknown) };
});

describe('settleRequest properties', () => {
  it('holds exactly the units taken: lines, movements and takes add up to the same number', () => {
    fc.assert(
      fc.property(settled, ({ result, settlement }) => {
        const taken = sum(result.takes.map((take) => take.quantity));
        expect(sum(settlement.lines.map((line) => line.quantity))).toBe(taken);
        expect(sum(settlement.movements.map(held))).toBe(taken);
      }),
    );
  });

  it('writes no line without its movement, on the same lot for the same units of the same reservation', () => {
    fc.assert(
      fc.property(settled, ({ wanted, settlement }) => {
        expect(settlement.movements).toHaveLength(settlement.lines.length);
        settlement.lines.forEach((line, index) => {
          const movement = settlement.movements[index]!;
          expect([movement.lotId, held(movement), movement.referenceId]).toEqual([line.lotId, line.quantity, line.reservationId]);
          expect(line.reservationId).toBe(settlement.reservation?.id);
          expect(line.allocatedQuantity).toBe(wanted.mode === 'allocate' ? line.quantity : 0);
        });
      }),
    );
  });

  it('makes a reservation exactly when something was taken, in the status of the mode', () => {
    fc.assert(
      fc.property(settled, ({ wanted, result, settlement }) => {
        expect(settlement.reservation !== null).toBe(result.takes.length > 0);
        if (settlement.reservation) expect(settlement.reservation.status).toBe(wanted.mode === 'reserve' ? 'RESERVED' : 'ALLOCATED');
        expect(settlement.history).toHaveLength(settlement.reservation ? 1 : 0);
      }),
    );
  });

  it('backorders only what a line missed, only when asked, and never an unknown product', () => {
    fc.assert(
      fc.property(settled, ({ wanted, unknown, result, settlement }) => {
        if (!wanted.allowBackorder) expect(settlement.backorders).toEqual([]);
        const expected =
          wanted.allowBackorder && result.shortfalls.length > 0
            ? wanted.lines.flatMap((line, lineIndex) => {
                const missing = line.quantity - takenOf(result.takes, lineIndex);
                return missing > 0 && !unknown.products.has(line.productId) ? [[line.productId, missing]] : [];
              })
            : [];
        expect(settlement.backorders.map((backorder) => [backorder.productId, backorder.quantity])).toEqual(expected);
        for (const backorder of settlement.backorders) expect(backorder.reservationId).toBe(settlement.reservation?.id ?? null);
      }),
    );
  });

  it('records one reservation event per reservation, its items adding up to the units held, and one BackorderCreated per backorder', () => {
    fc.assert(
      fc.property(settled, ({ settlement }) => {
        const reserved = settlement.events.filter((event) => event.type === 'InventoryReserved' || event.type === 'InventoryAllocated');
        expect(reserved).toHaveLength(settlement.reservation ? 1 : 0);
        for (const event of reserved) {
          expect(event.reservationId).toBe(settlement.reservation!.id);
          expect(sum(event.items.map((item) => item.quantity))).toBe(sum(settlement.lines.map((line) => line.quantity)));
        }
        const created = settlement.events.flatMap((event) => (event.type === 'BackorderCreated' ? [[event.backorderId, event.quantity]] : []));
        expect(created).toEqual(settlement.backorders.map((backorder) => [backorder.id, backorder.quantity]));
      }),
    );
  });

  it('names each short line once, and gives every row its own id', () => {
    fc.assert(
      fc.property(settled, ({ result, settlement }) => {
        expect(settlement.failedLines.map((line) => line.lineIndex)).toEqual(result.shortfalls.map((shortfall) => shortfall.lineIndex));
        const ids = [settlement.reservation?.id, ...settlement.lines.map((line) => line.id), ...settlement.backorders.map((backorder) => backorder.id)];
        const present = ids.filter((id) => id !== undefined);
        expect(new Set(present).size).toBe(present.length);
      }),
    );
  });
});

const backorderArb: fc.Arbitrary<StoredBackorder> = fc
  .record({
    product: fc.constantFrom(...productIds),
    quantity: fc.integer({ min: 1, max: 30 }),
    fulfilled: fc.nat({ max: 29 }),
    mode: fc.constantFrom('reserve' as const, 'allocate' as const),
    reservation: fc.constantFrom(null, 'res-1', 'res-2'),
    reference: fc.constantFrom('order-1', 'order-2'),
    strategy: fc.constantFrom(...strategies.filter((strategy) => strategy !== 'nearest_location')),
    priority: fc.constantFrom(...priorities),
  })
  .map((seed) => ({ seed, quantity: Math.max(seed.quantity, seed.fulfilled + 1) }))
  .map(({ seed, quantity }) =>
    backorder({
      productId: seed.product,
      quantity,
      fulfilledQuantity: seed.fulfilled,
      mode: seed.mode,
      reservationId: seed.reservation,
      referenceId: seed.reference,
      strategy: seed.strategy,
    }),
  );

const freeArb: fc.Arbitrary<Map<string, FillableReservation>> = fc
  .subarray(['res-1', 'res-2'])
  .chain((ids) =>
    fc
      .tuple(...ids.map((id) => fc.record({ id: fc.constant(id), status: fc.constantFrom('RESERVED' as const, 'ALLOCATED' as const), late: fc.boolean() })))
      .map(
        (entries) =>
          new Map(entries.map((entry) => [entry.id, { id: entry.id, status: entry.status, expiresAt: new Date(now.getTime() + (entry.late ? 0 : 60_000)) }])),
      ),
  );

const fills = fc.tuple(fc.array(backorderArb, { maxLength: 6 }), lotsArb, freeArb).map(([rawBackorders, lots, free]) => {
  const backorders = rawBackorders.map((one, index) => ({ ...one, id: `bo-${index}` }));
  const plans = planMany(
    backorders.map((one) => ({
      lines: [{ productId: one.productId, quantity: one.quantity - one.fulfilledQuantity }],
      // the arbitrary names no strategy that needs a destination
      ...strategyChoice(one.strategy, undefined)!,
      priority: 'medium' as const,
      allowPartial: true,
    })),
    lots,
    now,
  );
  return { backorders, plans, free, settlement: settleFills(backorders, plans, free, now, 'test', sequentialIds()) };
});

describe('settleFills properties', () => {
  it('gives each backorder exactly what its plan took, never more than it still waits for, held by lines with their movements', () => {
    fc.assert(
      fc.property(fills, ({ backorders, plans, settlement }) => {
        backorders.forEach((one, index) => {
          const taken = sum(plans[index]!.takes.map((take) => take.quantity));
          const given = settlement.fills.find((fill) => fill.backorderId === one.id);
          expect(given?.quantity ?? 0).toBe(taken);
          expect(taken).toBeLessThanOrEqual(one.quantity - one.fulfilledQuantity);
          if (given) expect(given.fulfilled).toBe(one.fulfilledQuantity + taken === one.quantity);
        });
        expect(sum(settlement.lines.map((line) => line.quantity))).toBe(sum(settlement.fills.map((fill) => fill.quantity)));
        expect(settlement.movements.map((movement) => [movement.lotId, held(movement)])).toEqual(settlement.lines.map((line) => [line.lotId, line.quantity]));
      }),
    );
  });

  it('joins a backorder reservation only when it is free, in the status the backorder asks for and, when reserving, not expired', () => {
    fc.assert(
      fc.property(fills, ({ backorders, free, settlement }) => {
        const created = new Set(settlement.reservations.map((reservation) => reservation.id));
        for (const fill of settlement.fills) {
          const one = backorders.find((candidate) => candidate.id === fill.backorderId)!;
          const target = one.reservationId === null ? undefined : free.get(one.reservationId);
          const joinable =
            target !== undefined &&
            target.status === (one.mode === 'reserve' ? 'RESERVED' : 'ALLOCATED') &&
            (one.mode === 'allocate' || target.expiresAt > now);
          expect(fill.reservationId === one.reservationId).toBe(joinable);
          if (!joinable) expect(created.has(fill.reservationId)).toBe(true);
        }
        expect(new Set(settlement.joined)).toEqual(
          new Set(settlement.fills.filter((fill) => !created.has(fill.reservationId)).map((fill) => fill.reservationId)),
        );
      }),
    );
  });

  it('records one BackorderFulfilled per fill, and a history row per new reservation', () => {
    fc.assert(
      fc.property(fills, ({ settlement }) => {
        expect(settlement.events.map((event) => (event.type === 'BackorderFulfilled' ? [event.backorderId, event.quantity] : null))).toEqual(
          settlement.fills.map((fill) => [fill.backorderId, fill.quantity]),
        );
        expect(settlement.history.map((change) => change.reservationId)).toEqual(settlement.reservations.map((reservation) => reservation.id));
      }),
    );
  });
});
