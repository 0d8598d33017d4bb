import { hash } from 'node:crypto';

// The property order JSON.stringify gives an object: array-index keys first, in numeric order, then the others as they were added.
const arrayIndex = /^(?:0|[1-9]\d{0,9})$/;
const isArrayIndex = (key: string): boolean => key.charCodeAt(0) <= 57 && arrayIndex.test(key) && Number(key) <= 4_294_967_294;

/**
 * The JSON text of `value` with every object's keys sorted, written in one pass: the text
 * JSON.stringify gives a copy with sorted keys (array-index keys first, in numeric order, as it
 * writes any object's), without building that copy. As in that copy, any object but an array is
 * its own enumerable properties (a Date is `{}`), an undefined property is left out and an
 * undefined array item is null.
 */
function canonicalJson(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let text = '[';
    for (let index = 0; index < value.length; index++) text += `${index === 0 ? '' : ','}${canonicalJson(value[index]) ?? 'null'}`;
    return `${text}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  const ordered = keys.some(isArrayIndex)
    ? [...keys.filter(isArrayIndex).sort((a, b) => Number(a) - Number(b)), ...keys.filter((key) => !isArrayIndex(key))]
    : keys;
  let text = '{';
  for (const key of ordered) {
    const member = canonicalJson(record[key]);
    if (member === undefined) continue;
    text += `${text.length === 1 ? '' : ','}${JSON.stringify(key)}:${member}`;
  }
  return `${text}}`;
}

/** A stable hash of a request body: the same JSON with keys in any order hashes the same. */
export function requestHash(body: unknown): string {
  return hash('sha256', canonicalJson(body) ?? 'null', 'hex');
}
