import fc from 'fast-check';
import { orderCancelledSchema, productCreatedSchema } from '../../src/events/schemas';
import { userText } from '../../src/schemas/common';

const line = userText(200);
const paragraph = userText(200, { multiline: true });

// Characters Postgres stores and a person reads: everything but controls (Cc) and surrogate halves.
const printable = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 50 }).filter((text) => !/[\p{Cc}\p{Cs}]/u.test(text) && text.length <= 200);
const controls = fc.constantFrom(...Array.from({ length: 32 }, (_, code) => String.fromCharCode(code)), '\u007f', '\u0085', '\u009f');

describe('userText: the text type of every schema that takes text from a caller', () => {
  it('accepts any text of printable characters, in any script, up to its length', () => {
    fc.assert(fc.property(printable, (text) => line.safeParse(text).success && paragraph.safeParse(text).success));
  });

  it('refuses NUL and every other control character anywhere in a single line', () => {
    fc.assert(
      fc.property(printable, controls, fc.nat(), (text, control, at) => {
        const position = at % (text.length + 1);
        return !line.safeParse(`${text.slice(0, position)}${control}${text.slice(position)}`).success;
      }),
    );
  });

  it('lets free text hold tabs and line breaks, but no other control character', () => {
    expect(paragraph.safeParse('counted twice:\n\taisle 4\r\n').success).toBe(true);
    expect(line.safeParse('counted twice:\naisle 4').success).toBe(false);
    for (const control of ['\u0000', '\u0007', '\u001b', '\u007f', '\u0085']) expect(paragraph.safeParse(`reason ${control}`).success).toBe(false);
  });

  it('refuses lone surrogates, high or low, and keeps pairs (emoji and other astral characters)', () => {
    for (const text of ['\ud800', 'a\udbffb', '\udc00', 'x\ude00\ud83d']) expect(line.safeParse(text).success).toBe(false);
    expect(line.safeParse('box \ud83d\udce6 𝄞').success).toBe(true);
  });

  it('says what is wrong without quoting the value', () => {
    const result = line.safeParse('secret\u0000value');
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).not.toContain('secret');
    expect(result.error?.issues[0]?.message).toMatch(/NUL/);
  });

  it('guards the events other services publish too', () => {
    const product = { eventId: 'e-1', type: 'ProductCreated', productId: 'p-1', sku: 'SKU-1', name: 'Widget' };
    expect(productCreatedSchema.safeParse(product).success).toBe(true);
    expect(productCreatedSchema.safeParse({ ...product, name: 'Wid\u0000get' }).success).toBe(false);
    expect(orderCancelledSchema.safeParse({ eventId: 'e-2', type: 'OrderCancelled', orderId: 'o-1', reason: 'bad\ud800' }).success).toBe(false);
  });
});
