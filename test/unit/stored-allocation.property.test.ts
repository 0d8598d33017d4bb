import fc from 'fast-check';
import { priorities } from '../../src/domain/priority';
import { strategies } from '../../src/domain/strategies';
import { createAllocationBody, isStoredAllocation } from '../../src/schemas/allocations';

// The worker trusts a stored request that passes isStoredAllocation without parsing it again, so
// everything the intake stores must pass it, and every shape its code cannot serve must not.

const name = fc.stringMatching(/^[A-Za-z0-9._:-]{1,12}$/);
const item = fc.oneof(
  fc.record({ productId: name, quantity: fc.integer({ min: 1, max: 1_000_000 }), warehouseId: fc.option(name, { nil: undefined }) }),
  fc
    .uniqueArray(name, { minLength: 1, maxLength: 5 })
    .chain((serialNumbers) => fc.record({ productId: name, quantity: fc.constant(serialNumbers.length), serialNumbers: fc.constant(serialNumbers) })),
);
const body = fc.record(
  {
    items: fc.array(item, { minLength: 1, maxLength: 4 }),
    mode: fc.constantFrom('reserve', 'allocate'),
    strategy: fc.constantFrom(...strategies),
    allowPartial: fc.boolean(),
    allowBackorder: fc.boolean(),
    reservationMinutes: fc.integer({ min: 1, max: 10_000 }),
    priority: fc.constantFrom(...priorities),
    timeoutMs: fc.integer({ min: 1, max: 86_400_000 }),
    referenceId: name,
    referenceType: name,
    destination: fc.record({ latitude: fc.double({ min: -90, max: 90, noNaN: true }), longitude: fc.double({ min: -180, max: 180, noNaN: true }) }),
  },
  { requiredKeys: ['items', 'referenceId', 'referenceType'] },
);
/** As the worker reads a request back: the intake's parse, through JSON (jsonb keeps no undefined). */
const stored = (value: unknown): unknown => JSON.parse(JSON.stringify(createAllocationBody.parse(value)));

describe('isStoredAllocation', () => {
  it('accepts every request the intake would store, as stored', () => {
    fc.assert(
      fc.property(body, (request) => {
        fc.pre(createAllocationBody.safeParse(request).success);
        expect(isStoredAllocation(stored(request))).toBe(true);
      }),
    );
  });

  it('refuses a stored request that lost a field the worker reads, or holds one of the wrong type', () => {
    const damaged = [
      (r: Record<string, any>) => ({ ...r, items: [] }),
      (r: Record<string, any>) => ({ ...r, items: 'p-1' }),
      (r: Record<string, any>) => ({ ...r, items: [{ ...r.items[0], quantity: '1' }] }),
      (r: Record<string, any>) => ({ ...r, items: [{ ...r.items[0], quantity: 0 }] }),
      (r: Record<string, any>) => ({ ...r, items: [{ ...r.items[0], productId: 7 }] }),
      (r: Record<string, any>) => ({ ...r, items: [{ ...r.items[0], warehouseId: null }] }),
      (r: Record<string, any>) => ({ ...r, items: [{ ...r.items[0], serialNumbers: ['a', 'b'], quantity: 1 }] }),
      (r: Record<string, any>) => ({ ...r, mode: 'take' }),
      (r: Record<string, any>) => ({ ...r, strategy: undefined }),
      (r: Record<string, any>) => ({ ...r, priority: 'urgent' }),
      (r: Record<string, any>) => ({ ...r, allowPartial: 'no' }),
      (r: Record<string, any>) => ({ ...r, allowBackorder: undefined }),
      (r: Record<string, any>) => ({ ...r, referenceId: null }),
      (r: Record<string, any>) => ({ ...r, reservationMinutes: 1.5 }),
      (r: Record<string, any>) => ({ ...r, destination: { latitude: '1' } }),
      (r: Record<string, any>) => ({ ...r, strategy: 'nearest_location', destination: undefined }),
    ];
    fc.assert(
      fc.property(body, fc.constantFrom(...damaged), (request, damage) => {
        fc.pre(createAllocationBody.safeParse(request).success);
        expect(isStoredAllocation(damage(stored(request) as Record<string, any>))).toBe(false);
      }),
    );
    expect(isStoredAllocation(null)).toBe(false);
    expect(isStoredAllocation([])).toBe(false);
  });
});
