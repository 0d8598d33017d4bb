import type { LightMyRequestResponse } from 'fastify';
import { AppError, errorStatus, type ErrorBody } from '../../src/errors';
import { isKeptRefusal } from '../../src/inventory/idempotency';
import { startTestApp, type TestApp } from '../helpers/app';
import { admin, receive, seedCatalogue } from '../helpers/inventory';
import { apiDocument, apiOperations, injectOptions, wellFormedCall, type ApiOperation, type RawCall } from '../helpers/openapi';
import { expectBooksBalanced } from '../helpers/stock';

/**
 * Walks every operation of /docs/json and sends it malformed values — in the body, the path, the
 * query and the headers — as an admin, so nothing stops them before validation. Every answer must
 * be below 500, carry the security headers and a safe request id and, when a refusal, the
 * documented error body; a refusal must change no table.
 */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('fuzz', { broker: true });
  // The documented examples name sku-123 at wh-001 and wh-002: with stock there, well-formed calls reach the database.
  await seedCatalogue(t, { warehouses: ['wh-001', 'wh-002'], products: ['sku-123'] });
  await receive(t, 'sku-123', 'wh-001', 1_000_000);
  await receive(t, 'sku-123', 'wh-002', 1_000_000);
});
afterAll(async () => t.close());

const overlong = 'x'.repeat(100_000);

/** Values no field takes: a call carrying one must be refused, never stored (not even as U+FFFD). */
const neverStored = new Set(['NUL', 'a lone high surrogate', 'a lone low surrogate', 'a lone surrogate', 'control characters']);

/** JSON values that are wrong for some field, or dangerous for any. */
const malformedValues: [string, unknown][] = [
  ['NUL', 'a\u0000b'],
  ['a lone high surrogate', 'a\ud800b'],
  ['a lone low surrogate', '\udc00'],
  ['control characters', '\u0007\u001b[2J\u007f\u0085'],
  ['an overlong string', overlong],
  ['an empty string', ''],
  ['a huge number', 1e308],
  ['a huge negative number', -1e308],
  ['an unsafe integer', 2 ** 53 + 2],
  ['a fraction', 0.5],
  ['a negative number', -1],
  ['zero', 0],
  ['a boolean', true],
  ['null', null],
  ['an object', { nested: { deeper: [1, 2, 3] } }],
  ['an array', ['a', 1, null]],
  ['SQL', "' OR '1'='1'; DROP TABLE inventory_items; --"],
  ['a prototype-pollution object', JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}')],
  ['the string __proto__', '__proto__'],
  ['a far-future date', '+275760-09-13T00:00:00.001Z'],
];

/** Raw, URL-encoded values for a path segment or a query value. */
const malformedUrlValues: [string, string][] = [
  ['NUL', 'a%00b'],
  ['an encoded lone surrogate', '%ED%A0%80'],
  ['invalid UTF-8', '%FF%FE'],
  ['a broken escape', '%E0%A4%A'],
  ['control characters', '%07%1B%7F'],
  ['an overlong value', 'x'.repeat(4000)],
  ['SQL', encodeURIComponent("' OR '1'='1'; --")],
  ['__proto__', '__proto__'],
  ['a path climb', '..%2F..%2Fetc%2Fpasswd'],
  ['a huge number', '1e400'],
  ['a negative number', '-1'],
];

/** Raw header values. */
const malformedHeaderValues: [string, string][] = [
  ['NUL', 'a\u0000b'],
  ['a lone surrogate', 'a\ud800b'],
  ['control characters', '\u0007\u001b'],
  ['an overlong value', 'x'.repeat(8000)],
  ['an empty value', ''],
  ['SQL', "' OR '1'='1'; --"],
];

/** Bodies that are not a JSON object, or not JSON at all. */
const malformedBodies: [string, RawCall['body']][] = [
  ['not JSON', { raw: 'not json', contentType: 'application/json' }],
  ['truncated JSON', { raw: '{"items": [', contentType: 'application/json' }],
  ['an empty JSON body', { raw: '', contentType: 'application/json' }],
  ['a JSON array', { json: [] }],
  ['a JSON string', { json: 'text' }],
  ['JSON null', { raw: 'null', contentType: 'application/json' }],
  ['a JSON number beyond double', { raw: '1e999', contentType: 'application/json' }],
  ['deeply nested JSON', { raw: `${'['.repeat(5000)}${']'.repeat(5000)}`, contentType: 'application/json' }],
  ['a __proto__ key', { raw: '{"__proto__":{"polluted":true}}', contentType: 'application/json' }],
  ['a constructor.prototype key', { raw: '{"constructor":{"prototype":{"polluted":true}}}', contentType: 'application/json' }],
  ['plain text', { raw: 'reserve everything', contentType: 'text/plain' }],
  ['a form', { raw: 'orderId=1&items=2', contentType: 'application/x-www-form-urlencoded' }],
  ['no content type', { raw: '{"a":1}' }],
];

/** Every path (as keys) inside a JSON value, the value itself first; arrays are entered through their first item. */
function fieldPaths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const paths = [prefix];
  if (Array.isArray(value) && value.length > 0) paths.push(...fieldPaths(value[0], [...prefix, 0]));
  else if (value && typeof value === 'object') for (const [key, inner] of Object.entries(value)) paths.push(...fieldPaths(inner, [...prefix, key]));
  return paths;
}

function withValueAt(root: unknown, path: (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const copy: unknown = structuredClone(root);
  let node = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  Object.defineProperty(node, path[path.length - 1]!, { value: replacement, enumerable: true, writable: true, configurable: true });
  return copy;
}

/** Operations whose answer never ends by itself. */
const endlessOperations = new Set(['GET /api/v1/stream']);

/** Every malformed call of an operation, each named by what it changes. */
function malformedCalls(operation: ApiOperation): [string, RawCall][] {
  const base = wellFormedCall(operation);
  const calls: [string, RawCall][] = [];
  if (base.body && 'json' in base.body) {
    const json = base.body.json;
    for (const path of fieldPaths(json)) {
      for (const [label, value] of malformedValues)
        calls.push([`body ${path.join('.') || '(root)'} = ${label}`, { ...base, body: { json: withValueAt(json, path, value) } }]);
    }
    for (const [label, body] of malformedBodies) calls.push([`body: ${label}`, { ...base, body }]);
  }
  for (const name of Object.keys(base.pathParams)) {
    for (const [label, value] of malformedUrlValues) calls.push([`path ${name} = ${label}`, { ...base, pathParams: { ...base.pathParams, [name]: value } }]);
  }
  for (const name of operation.queryNames) {
    const others = new URLSearchParams(operation.query);
    others.delete(name);
    const rest = others.toString() ? `&${others.toString()}` : '';
    for (const [label, value] of malformedUrlValues) calls.push([`query ${name} = ${label}`, { ...base, query: `${name}=${value}${rest}` }]);
    calls.push([`query ${name} given twice`, { ...base, query: `${name}=a&${name}=b${rest}` }]);
    calls.push([`query ${name} as an object`, { ...base, query: `${name}[a]=1${rest}` }]);
  }
  calls.push([`query with __proto__ keys`, { ...base, query: `${base.query}&__proto__=x&constructor[prototype][polluted]=1` }]);
  // A well-formed call of an endless answer (the live stream) never finishes; stream.test.ts reads it.
  const requestIdHeader = endlessOperations.has(operation.name) ? [] : ['x-request-id'];
  for (const name of [...operation.headerNames, ...requestIdHeader]) {
    for (const [label, value] of malformedHeaderValues) calls.push([`header ${name} = ${label}`, { ...base, headers: { ...base.headers, [name]: value } }]);
  }
  return calls;
}

let countRows: (() => Promise<Record<string, number>>) | undefined;
/** The number of rows of every table of the database. */
async function tableRowCounts(): Promise<Record<string, number>> {
  if (!countRows) {
    const tables = (await t.db.pool.query<{ name: string }>(`select tablename as name from pg_tables where schemaname = 'public' order by tablename`)).rows;
    const sql = tables.map(({ name }) => `select '${name}' as name, count(*)::int as rows from "${name}"`).join(' union all ');
    countRows = async () => Object.fromEntries((await t.db.pool.query<{ name: string; rows: number }>(sql)).rows.map((row) => [row.name, row.rows]));
  }
  return countRows();
}

/**
 * The status and body a call answered. A bulk call (POST /allocations/batch) answers 200 and each
 * entry in `results`: with the one entry these calls send, that entry's status and body are the answer.
 */
function answerOf(response: LightMyRequestResponse): { statusCode: number; body: string } {
  if (response.statusCode !== 200) return { statusCode: response.statusCode, body: response.body };
  try {
    const parsed = response.json<{ results?: unknown }>();
    if (!Array.isArray(parsed.results) || parsed.results.length !== 1) return { statusCode: response.statusCode, body: response.body };
    const [entry] = parsed.results as { status: number; body: unknown }[];
    return { statusCode: entry!.status, body: JSON.stringify(entry!.body) };
  } catch {
    return { statusCode: response.statusCode, body: response.body };
  }
}

/** What is wrong with an answer to a malformed call, if anything. */
function problemsOf(response: LightMyRequestResponse): string[] {
  const problems: string[] = [];
  if (response.statusCode >= 500) problems.push(`answered ${response.statusCode}: ${response.body.slice(0, 300)}`);
  if (response.body.includes('x'.repeat(100))) problems.push('echoes the overlong input');
  if (response.headers['x-content-type-options'] !== 'nosniff' || response.headers['cache-control'] !== 'no-store') problems.push('lacks the security headers');
  if (!/^[A-Za-z0-9._:-]{1,64}$/.test(String(response.headers['x-request-id'])))
    problems.push(`answers under the request id ${String(response.headers['x-request-id']).slice(0, 80)}`);
  const answer = answerOf(response);
  if (answer.statusCode < 400) return problems;
  let body: { error?: { code?: unknown; message?: unknown } } | undefined;
  try {
    body = JSON.parse(answer.body) as typeof body;
  } catch {
    problems.push(`${answer.statusCode} is not JSON: ${answer.body.slice(0, 200)}`);
    return problems;
  }
  const code = body?.error?.code;
  if (typeof code !== 'string' || !(code in errorStatus) || typeof body?.error?.message !== 'string') {
    problems.push(`${answer.statusCode} is not the documented error body: ${answer.body.slice(0, 200)}`);
  } else if (errorStatus[code as keyof typeof errorStatus] !== answer.statusCode) {
    problems.push(`${answer.statusCode} carries code ${code}, which means ${errorStatus[code as keyof typeof errorStatus]}`);
  }
  return problems;
}

describe('malformed values on every documented operation', () => {
  it('never answer 5xx, always refuse in the documented error shape, and change no table when refused', async () => {
    const operations = apiOperations(await apiDocument(t));
    expect(operations.length).toBeGreaterThan(20);
    const failures: string[] = [];
    let counts = await tableRowCounts();
    let sent = 0;
    for (const operation of operations) {
      for (const [label, call] of malformedCalls(operation)) {
        const response = await t.app.inject(injectOptions(operation, call, admin));
        sent += 1;
        const problems = problemsOf(response);
        const answer = answerOf(response);
        const value = label.replace(/^.* = /, '');
        // A bad x-request-id is replaced, not refused.
        if (neverStored.has(value) && !label.startsWith('header x-request-id') && answer.statusCode < 400)
          problems.push(`accepted it with ${answer.statusCode}`);
        const after = await tableRowCounts();
        if (answer.statusCode >= 400) {
          // a refusal the call ran into (404, 409) is kept under its Idempotency-Key by design, as an answer is
          const keptUnderKey = (table: string) =>
            table === 'idempotency_keys' && isKeptRefusal(new AppError((JSON.parse(answer.body) as ErrorBody).error.code, ''));
          const changed = Object.keys(after).filter((table) => after[table] !== counts[table] && !keptUnderKey(table));
          if (changed.length > 0) problems.push(`refused with ${answer.statusCode} but changed the row count of ${changed.join(', ')}`);
        }
        counts = after;
        for (const problem of problems) failures.push(`${operation.name} with ${label}: ${problem}`);
      }
    }
    expect(sent).toBeGreaterThan(1000);
    expect(failures.slice(0, 40)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await expectBooksBalanced(t.db.pool);
  }, 600_000);
});
