/**
 * Text Postgres can store. A text column refuses NUL (22021) and a jsonb value refuses NUL and lone
 * surrogates (22P05); a message from the outside may hold either. To keep such a message where an
 * operator can read it, those characters are written as their JSON escape in plain characters
 * (`\u0000` as the six characters backslash, u, 0, 0, 0, 0).
 */

// a surrogate half not paired with its other half (`u` mode matches lone surrogates only)
const loneSurrogate = /\p{Cs}/u;
const loneSurrogates = /\p{Cs}/gu;
const NUL = '\u0000';

/** Whether the text holds NUL or a lone surrogate. */
export function hasUnstorableText(text: string): boolean {
  return text.includes(NUL) || loneSurrogate.test(text);
}

/** The text with NUL and lone surrogates written as `\uXXXX` escapes; any other text comes back unchanged. */
export function escapeUnstorable(text: string): string {
  return text.replaceAll(NUL, '\\u0000').replace(loneSurrogates, (half) => `\\u${half.charCodeAt(0).toString(16)}`);
}

/** A JSON value with every string and key escaped (escapeUnstorable), and whether anything had to change. */
export function storableJson(value: unknown): { value: unknown; escaped: boolean } {
  let escaped = false;
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') {
      const text = escapeUnstorable(node);
      if (text !== node) escaped = true;
      return text;
    }
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node === 'object' && node !== null && !Buffer.isBuffer(node)) {
      return Object.fromEntries(Object.entries(node).map(([key, item]) => [walk(key) as string, walk(item)]));
    }
    return node;
  };
  return { value: walk(value), escaped };
}
