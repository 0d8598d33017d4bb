/** Reads the examples of a seed document (a Markdown text with ```http and ```json blocks) and compares answers with them. */

/** One request of the seed with the answer it shows. */
export type HttpExample = {
  title: string;
  method: string;
  /** path and query as written, e.g. `/inventory/{productId}?warehouseId=wh-001` */
  target: string;
  headers: Record<string, string>;
  body: unknown;
  response: unknown;
};

/** One event payload of the seed. */
export type EventExample = { title: string; payload: Record<string, unknown> };

/** JSON as the seed writes it: `//` comments after values are dropped (outside strings). */
export function parseSeedJson(text: string): unknown {
  let out = '';
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index]!;
    if (inString) {
      out += char;
      if (char === '\\') out += text[++index] ?? '';
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
      out += char;
    } else if (char === '/' && text[index + 1] === '/') {
      while (index < text.length && text[index] !== '\n') index += 1;
      out += '\n';
    } else {
      out += char;
    }
  }
  return JSON.parse(out);
}

/** The fenced blocks of a Markdown text with the heading (####) they stand under. */
function fencedBlocks(text: string): { title: string; language: string; content: string }[] {
  const blocks: { title: string; language: string; content: string }[] = [];
  let title = '';
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index]!;
    const heading = /^#{2,4} (.+)$/.exec(line);
    if (heading) title = heading[1]!.trim();
    const fence = /^```(\w*)\s*$/.exec(line);
    if (!fence) continue;
    const content: string[] = [];
    for (index += 1; index < lines.length && !lines[index]!.startsWith('```'); index += 1) content.push(lines[index]!);
    blocks.push({ title, language: fence[1]!, content: content.join('\n') });
  }
  return blocks;
}

/** Every request (```http blocks with a method line) and every event payload (```json blocks under a `…Event` heading) of the seed. */
export function parseSeedExamples(text: string): { requests: HttpExample[]; events: EventExample[] } {
  const requests: HttpExample[] = [];
  const events: EventExample[] = [];
  for (const block of fencedBlocks(text)) {
    if (block.language === 'http') {
      const [requestLine = '', ...rest] = block.content.split('\n');
      const start = /^(GET|POST|PUT|PATCH|DELETE) (\S+)$/.exec(requestLine.trim());
      if (!start) continue;
      const headers: Record<string, string> = {};
      let index = 0;
      for (; index < rest.length && rest[index]!.trim() !== ''; index += 1) {
        const [name, ...value] = rest[index]!.split(':');
        headers[name!.trim().toLowerCase()] = value.join(':').trim();
      }
      const remainder = rest.slice(index).join('\n');
      const [bodyText = '', responseText = ''] = remainder.split(/^Response:\s*$/m);
      requests.push({
        title: block.title,
        method: start[1]!,
        target: start[2]!,
        headers,
        body: bodyText.trim() === '' ? undefined : parseSeedJson(bodyText),
        response: parseSeedJson(responseText),
      });
    } else if (block.language === 'json' && /Event$/.test(block.title)) {
      events.push({ title: block.title, payload: parseSeedJson(block.content) as Record<string, unknown> });
    }
  }
  return { requests, events };
}

const kindOf = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

/**
 * Where `actual` lacks what `expected` shows: every field of every object, recursively, must be
 * present with the same JSON type (a null in `expected` allows any value). Array elements are
 * compared with the element at the same place, or the last one when `actual` is shorter; an empty
 * `actual` array cannot show the fields of a non-empty `expected` one. Extra fields are fine.
 */
export function missingFields(expected: unknown, actual: unknown, path = '$'): string[] {
  if (expected === null) return actual === undefined ? [`${path}: missing`] : [];
  if (actual === undefined) return [`${path}: missing`];
  if (kindOf(expected) !== kindOf(actual)) return [`${path}: ${kindOf(actual)} where the seed has ${kindOf(expected)}`];
  if (Array.isArray(expected)) {
    const list = actual as unknown[];
    if (expected.length > 0 && list.length === 0) return [`${path}: empty where the seed shows ${expected.length} elements`];
    return expected.flatMap((element, index) => missingFields(element, list[Math.min(index, list.length - 1)], `${path}[${index}]`));
  }
  if (typeof expected === 'object') {
    const record = actual as Record<string, unknown>;
    return Object.entries(expected as Record<string, unknown>).flatMap(([key, value]) => missingFields(value, record[key], `${path}.${key}`));
  }
  return [];
}
