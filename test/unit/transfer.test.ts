import fc from 'fast-check';
import { inTransitOf, isTransferOverdue, planReceipt, transferStatuses, type TransferLineProgress } from '../../src/domain/transfer';

const line = (id: string, productId: string, quantity: number, parts: Partial<TransferLineProgress> = {}): TransferLineProgress => ({
  id,
  productId,
  quantity,
  receivedQuantity: 0,
  shortQuantity: 0,
  returnedQuantity: 0,
  ...parts,
});

describe('isTransferOverdue', () => {
  const now = new Date('2030-01-01T00:00:00.000Z');
  const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);

  it('is overdue from its expected delivery on while units are on their way', () => {
    expect(isTransferOverdue({ status: 'IN_TRANSIT', expectedDelivery: at(1) }, now)).toBe(false);
    expect(isTransferOverdue({ status: 'IN_TRANSIT', expectedDelivery: at(0) }, now)).toBe(true);
    expect(isTransferOverdue({ status: 'PARTIALLY_RECEIVED', expectedDelivery: at(-1) }, now)).toBe(true);
  });

  it('is never overdue without an expected delivery, nor once it is done', () => {
    expect(isTransferOverdue({ status: 'IN_TRANSIT', expectedDelivery: null }, now)).toBe(false);
    expect(isTransferOverdue({ status: 'RECEIVED', expectedDelivery: at(-1) }, now)).toBe(false);
    expect(isTransferOverdue({ status: 'CANCELLED', expectedDelivery: at(-1) }, now)).toBe(false);
    expect(transferStatuses.filter((status) => isTransferOverdue({ status, expectedDelivery: at(-1) }, now))).toEqual(['IN_TRANSIT', 'PARTIALLY_RECEIVED']);
  });
});

describe('planReceipt', () => {
  const lines = [line('l1', 'p', 6), line('l2', 'p', 4, { receivedQuantity: 1 }), line('l3', 'q', 5)];

  it('without arrivals takes everything still on its way', () => {
    expect(planReceipt(lines, undefined, false)).toEqual({
      receipts: [
        { lineId: 'l1', received: 6, short: 0 },
        { lineId: 'l2', received: 3, short: 0 },
        { lineId: 'l3', received: 5, short: 0 },
      ],
      status: 'RECEIVED',
    });
  });

  it('shares a product over its lines in order and leaves the rest on its way', () => {
    expect(planReceipt(lines, [{ productId: 'p', quantity: 7 }], false)).toEqual({
      receipts: [
        { lineId: 'l1', received: 6, short: 0 },
        { lineId: 'l2', received: 1, short: 0 },
      ],
      status: 'PARTIALLY_RECEIVED',
    });
  });

  it('with complete records what did not arrive as short', () => {
    expect(planReceipt(lines, [{ lineId: 'l3', quantity: 2 }], true)).toEqual({
      receipts: [
        { lineId: 'l1', received: 0, short: 6 },
        { lineId: 'l2', received: 0, short: 3 },
        { lineId: 'l3', received: 2, short: 3 },
      ],
      status: 'RECEIVED',
    });
  });

  it('refuses unknown products or lines, and more than is on its way, naming each', () => {
    expect(
      planReceipt(
        lines,
        [
          { productId: 'x', quantity: 1 },
          { lineId: 'l9', quantity: 1 },
        ],
        false,
      ),
    ).toEqual({
      refusal: {
        code: 'UNKNOWN_REFERENCE',
        unknown: [
          { item: 0, productId: 'x' },
          { item: 1, lineId: 'l9' },
        ],
      },
    });
    expect(
      planReceipt(
        lines,
        [
          { productId: 'p', quantity: 10 },
          { lineId: 'l3', quantity: 6 },
        ],
        false,
      ),
    ).toEqual({
      refusal: {
        code: 'CONFLICT',
        excess: [
          { item: 0, productId: 'p', received: 10, inTransit: 9 },
          { item: 1, lineId: 'l3', received: 6, inTransit: 5 },
        ],
      },
    });
  });

  const linesArb = fc
    .array(fc.record({ productId: fc.constantFrom('p', 'q', 'r'), quantity: fc.integer({ min: 1, max: 20 }), received: fc.nat(20) }), {
      minLength: 1,
      maxLength: 6,
    })
    .map((drafts) =>
      drafts.map((draft, index) => line(`l${index}`, draft.productId, draft.quantity, { receivedQuantity: Math.min(draft.received, draft.quantity - 1) })),
    );
  const arrivalsArb = (candidates: TransferLineProgress[]) =>
    fc.array(
      fc.oneof(
        fc.record({ productId: fc.constantFrom(...candidates.map((entry) => entry.productId)), quantity: fc.integer({ min: 1, max: 10 }) }),
        fc.record({ lineId: fc.constantFrom(...candidates.map((entry) => entry.id)), quantity: fc.integer({ min: 1, max: 10 }) }),
      ),
      { maxLength: 4 },
    );

  it('never takes more than is on its way, accounts for every unit named, and is done exactly when nothing is left', () => {
    fc.assert(
      fc.property(
        linesArb.chain((drafted) => fc.tuple(fc.constant(drafted), arrivalsArb(drafted), fc.boolean())),
        ([drafted, arrivals, complete]) => {
          const plan = planReceipt(drafted, arrivals, complete);
          if ('refusal' in plan) return;
          const named = arrivals.reduce((sum, arrival) => sum + arrival.quantity, 0);
          expect(plan.receipts.reduce((sum, receipt) => sum + receipt.received, 0)).toBe(named);
          for (const receipt of plan.receipts) {
            const before = drafted.find((entry) => entry.id === receipt.lineId)!;
            expect(receipt.received + receipt.short).toBeLessThanOrEqual(inTransitOf(before));
          }
          const left =
            drafted.reduce((sum, entry) => sum + inTransitOf(entry), 0) - plan.receipts.reduce((sum, receipt) => sum + receipt.received + receipt.short, 0);
          expect(plan.status).toBe(left === 0 ? 'RECEIVED' : 'PARTIALLY_RECEIVED');
          if (complete) expect(left).toBe(0);
        },
      ),
    );
  });
});
