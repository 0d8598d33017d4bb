import fc from 'fast-check';
import { escapeUnstorable, hasUnstorableText, storableJson } from '../../src/domain/storable-text';

// Any UTF-16 text, lone surrogates and NUL included.
const anyText = fc.string({ unit: 'binary', maxLength: 40 });
const anyJson = fc.jsonValue({ maxDepth: 3 }).chain((value) =>
  fc.oneof(
    fc.constant(value),
    anyText.map((text) => ({ [text]: [text, value] })),
  ),
);

/** Every string of a JSON value, keys included. */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([key, item]) => [key, ...stringsOf(item)]);
  return [];
}

describe('storable text: what a dead letter may hold', () => {
  it('leaves no NUL and no lone surrogate in any text', () => {
    fc.assert(fc.property(anyText, (text) => !hasUnstorableText(escapeUnstorable(text))));
  });

  it('changes nothing in text Postgres stores, astral characters included', () => {
    const storable = anyText.filter((text) => !hasUnstorableText(text));
    fc.assert(fc.property(storable, (text) => escapeUnstorable(text) === text));
    expect(escapeUnstorable('box \ud83d\udce6 𝄞 tab\t')).toBe('box \ud83d\udce6 𝄞 tab\t');
  });

  it('writes NUL and lone surrogates as their JSON escape in plain characters', () => {
    expect(escapeUnstorable('a\u0000b')).toBe('a\\u0000b');
    expect(escapeUnstorable('x\ud800y\udfff')).toBe('x\\ud800y\\udfff');
    expect(escapeUnstorable('\ude00\ud83d')).toBe('\\ude00\\ud83d');
  });

  it('escapes every string and key of a JSON value and says whether it had to', () => {
    fc.assert(
      fc.property(anyJson, (value) => {
        const stored = storableJson(value);
        const unchanged = JSON.stringify(value) === JSON.stringify(stored.value);
        return stringsOf(stored.value).every((text) => !hasUnstorableText(text)) && stored.escaped === !unchanged;
      }),
    );
    expect(storableJson({ 'k\u0000': ['v\ud800', 1, null, true] })).toEqual({ value: { 'k\\u0000': ['v\\ud800', 1, null, true] }, escaped: true });
  });
});
