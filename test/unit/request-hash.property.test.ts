import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { requestHash } from '../../src/request-hash';

/**
 * The hash as it was first written: a sorted copy of the body, stringified. Keys kept within the
 * retention window were hashed this way, so a repeat must hash the same.
 */
function sortedCopyHash(body: unknown): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value !== null && typeof value === 'object'
        ? Object.fromEntries(
            Object.entries(value as Record<string, unknown>)
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([k, v]) => [k, canonical(v)]),
          )
        : value;
  return createHash('sha256')
    .update(JSON.stringify(canonical(body) ?? null))
    .digest('hex');
}

// Keys JSON.stringify orders apart (array indexes, written first in numeric order) and keys it does not.
const key = fc.oneof(
  fc.string(),
  fc.constantFrom('0', '1', '2', '10', '9', '01', '-1', '1.5', '4294967294', '4294967295', '99999999999', '__proto__', 'toJSON', 'a', 'B'),
);
const leaf = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.date({ noInvalidDate: true }));
const { body } = fc.letrec((tie) => ({
  body: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('body'), { maxLength: 5 }),
  object: fc.dictionary(key, tie('body'), { maxKeys: 8 }),
}));

describe('requestHash', () => {
  it('hashes every body as the sorted copy did', () => {
    fc.assert(
      fc.property(body, (value) => requestHash(value) === sortedCopyHash(value)),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.jsonValue(), (value) => requestHash(value) === sortedCopyHash(value)),
      { numRuns: 2000 },
    );
  });

  it('hashes the same JSON with keys in any order the same, and other JSON apart', () => {
    const body = { orderId: 'o-1', items: [{ productId: 'p', quantity: 1 }], allowPartial: false };
    expect(requestHash({ allowPartial: false, items: [{ quantity: 1, productId: 'p' }], orderId: 'o-1' })).toBe(requestHash(body));
    expect(requestHash({ ...body, allowPartial: true })).not.toBe(requestHash(body));
    expect(requestHash({ ...body, items: [{ productId: 'p', quantity: 2 }] })).not.toBe(requestHash(body));
  });
});
