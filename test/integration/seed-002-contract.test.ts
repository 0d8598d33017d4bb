import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { createEventPublisher, type EventPublisher } from '../../src/amqp/event-publisher';
import { declareEventsExchange } from '../../src/amqp/event-topology';
import { relayOutboxRound } from '../../src/events/relay';
import { startTestApp, type TestApp } from '../helpers/app';
import { tapExchange, type EventTap } from '../helpers/event-tap';
import { admin, service } from '../helpers/inventory';
import { missingFields, parseSeedExamples, parseSeedJson, type HttpExample } from '../helpers/seed-examples';
import { projectRoot } from '../helpers/stack';

/**
 * SPEC §8b: every request and answer seed 002 shows is part of the contract. The seed is replayed
 * example by example — bodies exactly as written, only the ids the service generates (a
 * reservation's) put in for the seed's — and each answer must carry every field of the seed's
 * answer, nested, with the same JSON type. Fields may be added; none may be missing or renamed.
 */

const fixture = path.join(projectRoot, 'test/fixtures/seed-002.txt');
/** The seed as the project received it; the fixture must be that file, byte for byte. */
const seedFile = path.join(projectRoot, '../shared/seeds/002_9cfa0ed6f83aa1e7.txt');
const fixtureSha256 = 'dabe33b790ede332735f4de5dbd5455ff0ae2219703813b66f58e564c5a8bd7d';

const seedText = readFileSync(fixture, 'utf8');
const { requests, events } = parseSeedExamples(seedText);

describe('the seed 002 fixture', () => {
  it('is the seed document as received, byte for byte', () => {
    expect(createHash('sha256').update(readFileSync(fixture)).digest('hex')).toBe(fixtureSha256);
    if (existsSync(seedFile)) expect(readFileSync(fixture)).toEqual(readFileSync(seedFile));
  });

  it('holds the seven requests and four events of the API section', () => {
    expect(requests.map((request) => `${request.method} ${request.target}`)).toEqual([
      'POST /inventory/check-availability',
      'POST /inventory/reserve',
      'POST /inventory/release',
      'GET /inventory/{productId}?warehouseId=wh-001',
      'PUT /inventory/adjust',
      'GET /inventory/low-stock?warehouseId=wh-001&threshold=0.2',
      'POST /inventory/transfer',
    ]);
    expect(events.map((event) => event.title)).toEqual(['InventoryReservedEvent', 'InventoryReleasedEvent', 'LowStockAlertEvent', 'StockAdjustedEvent']);
  });

  it('compares answers field by field and type by type', () => {
    expect(parseSeedJson('{ "a": 1, // note\n "b": "x // not a comment" }')).toEqual({ a: 1, b: 'x // not a comment' });
    expect(missingFields({ a: 1, b: { c: 'x' }, d: [{ e: true }] }, { a: 2, b: { c: 'y', z: 0 }, d: [{ e: false }] })).toEqual([]);
    expect(missingFields({ a: 1, b: { c: 'x' } }, { a: '1', b: {} })).toEqual(['$.a: string where the seed has number', '$.b.c: missing']);
    expect(missingFields({ d: [{ e: 1 }] }, { d: [] })).toEqual(['$.d: empty where the seed shows 1 elements']);
    expect(missingFields({ n: null }, { n: 5 })).toEqual([]);
  });
});

describe('seed 002 on the wire', () => {
  let t: TestApp;
  let publisher: EventPublisher;
  let tap: EventTap;
  /** The seed's generated ids (res-…, tr-…) and the ones the service gave in their place. */
  const ours = new Map<string, string>();

  const inject = (method: string, url: string, headers: Record<string, string>, payload?: unknown) =>
    t.app.inject({ method: method as 'GET', url: `/api/v1${url}`, headers, ...(payload === undefined ? {} : { payload: payload as object }) });

  beforeAll(async () => {
    t = await startTestApp('seed-002', { broker: true });
    publisher = await createEventPublisher(t.amqp!, {
      exchange: t.config.EVENTS_EXCHANGE,
      logger: pino({ level: 'silent' }),
      declare: (channel) => declareEventsExchange(channel, t.config.EVENTS_EXCHANGE),
      confirmTimeoutMs: t.config.PUBLISH_CONFIRM_TIMEOUT_MS,
    });
    tap = await tapExchange(t.vhost!.url, t.config.EVENTS_EXCHANGE);

    // The world the seed's examples speak of: its warehouses (of its types), its products, their stock and settings.
    const setup: [string, string, unknown][] = [
      ['POST', '/warehouses', { id: 'wh-001', code: 'MAIN', name: 'Main Warehouse', type: 'MAIN' }],
      ['POST', '/warehouses', { id: 'wh-002', code: 'SECOND', name: 'Secondary Warehouse', type: 'SECONDARY' }],
      ['POST', '/warehouses', { id: 'wh-003', code: 'DROP', name: 'Dropship partner', type: 'DROPSHIP' }],
      ['POST', '/products', { id: '550e8400-e29b-41d4-a716-446655440000', sku: 'PROD-123', name: 'Widget' }],
      ['POST', '/products', { id: '660e8400-e29b-41d4-a716-446655440000', sku: 'PROD-321', name: 'Sold out' }],
      ['POST', '/products', { id: '990e8400-e29b-41d4-a716-446655440000', sku: 'PROD-789', name: 'Widget XL' }],
      ['POST', '/products', { id: 'aa0e8400-e29b-41d4-a716-446655440000', sku: 'PROD-456', name: 'Gadget Pro' }],
      [
        'PUT',
        '/inventory/settings',
        {
          productId: '550e8400-e29b-41d4-a716-446655440000',
          warehouseId: 'wh-001',
          reorderPoint: 10,
          reorderQuantity: 50,
          minStockLevel: 2,
          location: { zone: 'A', aisle: '12', shelf: 'B3' },
        },
      ],
      [
        'PUT',
        '/inventory/settings',
        { productId: '990e8400-e29b-41d4-a716-446655440000', warehouseId: 'wh-001', reorderPoint: 20, reorderQuantity: 60, minStockLevel: 5 },
      ],
      [
        'PUT',
        '/inventory/settings',
        { productId: 'aa0e8400-e29b-41d4-a716-446655440000', warehouseId: 'wh-001', reorderPoint: 50, reorderQuantity: 100, minStockLevel: 5 },
      ],
      [
        'PUT',
        '/inventory/adjust',
        {
          adjustments: [
            { productId: '550e8400-e29b-41d4-a716-446655440000', warehouseId: 'wh-001', quantity: 20, type: 'RECEIPT', reason: 'opening stock' },
            { productId: '550e8400-e29b-41d4-a716-446655440000', warehouseId: 'wh-002', quantity: 25, type: 'RECEIPT', reason: 'opening stock' },
            { productId: '990e8400-e29b-41d4-a716-446655440000', warehouseId: 'wh-001', quantity: 50, type: 'RECEIPT', reason: 'opening stock' },
            { productId: 'aa0e8400-e29b-41d4-a716-446655440000', warehouseId: 'wh-001', quantity: 60, type: 'RECEIPT', reason: 'opening stock' },
          ],
        },
      ],
      // sales since: both fall under their reorder points (LowStockAlert), at a rate that gives days of supply
      [
        'PUT',
        '/inventory/adjust',
        {
          adjustments: [
            { productId: '990e8400-e29b-41d4-a716-446655440000', warehouseId: 'wh-001', quantity: 47, type: 'SHIPMENT', reason: 'orders' },
            { productId: 'aa0e8400-e29b-41d4-a716-446655440000', warehouseId: 'wh-001', quantity: 50, type: 'SHIPMENT', reason: 'orders' },
          ],
        },
      ],
    ];
    for (const [method, url, payload] of setup) {
      const response = await inject(method, url, admin, payload);
      if (response.statusCode >= 300) throw new Error(`setup ${method} ${url} failed: ${response.body}`);
    }
  });
  afterAll(async () => {
    await tap.close();
    await publisher.close();
    await t.close();
  });

  /** Puts the service's ids in for the seed's, everywhere in a request body. */
  const withOurIds = (value: unknown): unknown => {
    if (typeof value === 'string') return ours.get(value) ?? value;
    if (Array.isArray(value)) return value.map(withOurIds);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, withOurIds(inner)]));
    return value;
  };

  /** Remembers which of our ids stands for each id the seed's answer generated (reservation, transfer, adjustment). */
  const learnIds = (seed: unknown, answer: unknown) => {
    if (seed === null || answer === null || typeof seed !== 'object' || typeof answer !== 'object') return;
    for (const [key, value] of Object.entries(seed)) {
      const mine = (answer as Record<string, unknown>)[key];
      if (typeof value === 'string' && typeof mine === 'string' && /^(res|tr|adj)-/.test(value)) ours.set(value, mine);
      else learnIds(value, mine);
    }
  };

  /** The seed's `{productId}` placeholders take the value its answer shows for that field. */
  const resolveTarget = (example: HttpExample) =>
    example.target.replace(/\{(\w+)\}/g, (_, name: string) => String((example.response as Record<string, unknown>)[name]));

  it.each(requests.map((example) => [`${example.method} ${example.target}`, example] as const))(
    '%s is accepted as written and answers every field of the seed',
    async (_name, example) => {
      const token = example.headers.authorization === 'Bearer {admin-token}' ? admin : service;
      const headers = { ...token, ...(example.headers['content-type'] ? { 'content-type': example.headers['content-type'] } : {}) };
      const response = await inject(example.method, resolveTarget(example), headers, withOurIds(example.body));
      expect({ status: response.statusCode, body: response.statusCode < 300 ? 'ok' : response.json() }).toEqual({ status: expect.any(Number), body: 'ok' });
      const answer = response.json<unknown>();
      expect(missingFields(example.response, answer)).toEqual([]);
      learnIds(example.response, answer);
    },
  );

  it('publishes every event of the seed with every field it shows', async () => {
    while ((await relayOutboxRound(t.db.pool, publisher, { batchSize: 100, retryBaseMs: 1000, retryMaxMs: 1000 })).claimed > 0);
    const { rows } = await t.db.pool.query<{ n: number }>('select count(*)::int as n from outbox_events');
    const published = await tap.waitFor(rows[0]!.n);
    for (const example of events) {
      const type = example.title.replace(/Event$/, '');
      const message = published.find((candidate) => candidate.body.type === type);
      expect({ type, found: message !== undefined }).toEqual({ type, found: true });
      expect({ type, missing: missingFields(example.payload, message!.body) }).toEqual({ type, missing: [] });
    }
  });
});
