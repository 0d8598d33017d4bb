import pino from 'pino';
import { startIdempotencyPruner } from '../../src/runners/idempotency-pruner';
import { startTestApp, type TestApp } from '../helpers/app';
import { waitFor } from '../helpers/allocations';
import { inventoryApi } from '../helpers/inventory-api';
import { ledgerDifferences, receiveLots, reservationBookDifferences, seedCatalogue, totalsOf } from '../helpers/stock';

// Idempotency-Keys the way Stripe keeps them: a refusal the call ran into is its answer for good,
// a body refused before anything ran is not, and keys are free again after their retention.

let t: TestApp;
let api: ReturnType<typeof inventoryApi>;
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

beforeAll(async () => {
  t = await startTestApp('idempotency');
  api = inventoryApi(t.app);
  await seedCatalogue(t.db.pool, { warehouses: [{ id: 'wh-a' }] });
});
afterAll(async () => t.close());
afterEach(async () => {
  expect(await ledgerDifferences(t.db.pool)).toEqual([]);
  expect(await reservationBookDifferences(t.db.pool)).toEqual([]);
});

let counter = 0;
/** A fresh product with `quantity` units in one lot; returns its id. */
async function product(quantity: number): Promise<string> {
  counter += 1;
  const id = `idem-p-${counter}`;
  await seedCatalogue(t.db.pool, { products: [id] });
  if (quantity > 0) await receiveLots(t.db.pool, [{ productId: id, warehouseId: 'wh-a', quantity }]);
  return id;
}

const key = (name: string) => ({ 'idempotency-key': `${name}-${counter}` });

async function keptCount(idempotencyKey: string): Promise<number> {
  const { rows } = await t.db.pool.query(`select count(*)::int as n from idempotency_keys where key = $1`, [idempotencyKey]);
  return rows[0].n;
}

describe('refusals under an Idempotency-Key', () => {
  it('a reserve refused for want of stock replays its 409 for its key, even once the stock is there', async () => {
    const productId = await product(2);
    const body = { orderId: `ord-${productId}`, items: [{ productId, quantity: 5 }] };
    const headers = key('short');
    const refused = await api.reserve(body, headers);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('INSUFFICIENT_STOCK');
    expect(refused.headers['idempotent-replayed']).toBeUndefined();

    await receiveLots(t.db.pool, [{ productId, warehouseId: 'wh-a', quantity: 10 }]);
    const again = await api.reserve(body, headers);
    expect(again.statusCode).toBe(409);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(refused.json());
    expect(await totalsOf(t.db.pool, productId)).toEqual({ quantity: 12, reserved: 0, allocated: 0 });

    // the key with another body stays refused as before; a new key reserves
    expect((await api.reserve({ ...body, items: [{ productId, quantity: 1 }] }, headers)).statusCode).toBe(422);
    expect((await api.reserve(body, key('short-new'))).statusCode).toBe(201);
  });

  it('concurrent repeats of a refused reserve all get the one kept refusal', async () => {
    const productId = await product(1);
    const body = { orderId: `ord-${productId}`, items: [{ productId, quantity: 3 }] };
    const headers = key('short-together');
    const answers = await Promise.all([1, 2, 3].map(() => api.reserve(body, headers)));
    expect(answers.map((answer) => answer.statusCode)).toEqual([409, 409, 409]);
    for (const answer of answers) expect(answer.json()).toEqual(answers[0]!.json());
    expect(answers.filter((answer) => answer.headers['idempotent-replayed'] === 'true')).toHaveLength(2);
    expect(await keptCount(headers['idempotency-key'])).toBe(1);
  });

  it('a release of no such reservation replays its 404, and an allocate refused by the state replays its 409', async () => {
    const missing = '01a20981-06be-7000-8000-00000000dead';
    const headers = key('gone');
    const notFound = await api.release({ reservationId: missing }, headers);
    expect(notFound.statusCode).toBe(404);
    const replayed = await api.release({ reservationId: missing }, headers);
    expect(replayed.statusCode).toBe(404);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.json()).toEqual(notFound.json());

    const productId = await product(4);
    const reserved = await api.reserve({ orderId: `ord-${productId}`, items: [{ productId, quantity: 2 }] });
    expect(reserved.statusCode).toBe(201);
    const reservationId = reserved.json().reservationId as string;
    expect((await api.release({ reservationId })).statusCode).toBe(200);
    const allocateHeaders = key('late-allocate');
    const refused = await api.allocate({ reservationId }, allocateHeaders);
    expect(refused.statusCode).toBe(409);
    const again = await api.allocate({ reservationId }, allocateHeaders);
    expect(again.statusCode).toBe(409);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(refused.json());
    expect((await api.allocate({ reservationId: missing }, allocateHeaders)).statusCode).toBe(422);
  });

  it('a body refused by its schema (400) keeps nothing: the key is free for the corrected call', async () => {
    const productId = await product(5);
    const headers = key('typo');
    const invalid = await api.reserve({ orderId: `ord-${productId}`, items: [{ productId, quantity: 0 }] }, headers);
    expect(invalid.statusCode).toBe(400);
    expect(await keptCount(headers['idempotency-key'])).toBe(0);
    const corrected = await api.reserve({ orderId: `ord-${productId}`, items: [{ productId, quantity: 2 }] }, headers);
    expect(corrected.statusCode).toBe(201);
    expect(corrected.headers['idempotent-replayed']).toBeUndefined();
  });
});

describe('retention', () => {
  it('the pruner deletes keys older than IDEMPOTENCY_RETENTION_HOURS, which may then be used again; younger keys stay', async () => {
    const productId = await product(10);
    const old = key('old');
    const young = key('young');
    const first = await api.reserve({ orderId: `ord-old-${productId}`, items: [{ productId, quantity: 1 }] }, old);
    const kept = await api.reserve({ orderId: `ord-young-${productId}`, items: [{ productId, quantity: 1 }] }, young);
    expect([first.statusCode, kept.statusCode]).toEqual([201, 201]);
    await t.db.pool.query(`update idempotency_keys set created_at = now() - interval '25 hours' where key = $1`, [old['idempotency-key']]);
    await t.db.pool.query(`update idempotency_keys set created_at = now() - interval '23 hours' where key = $1`, [young['idempotency-key']]);
    // before it is pruned, an old key still replays
    expect((await api.reserve({ orderId: `ord-other-${productId}`, items: [{ productId, quantity: 2 }] }, old)).statusCode).toBe(422);

    const pruner = startIdempotencyPruner({ config: { ...t.config, IDEMPOTENCY_RETENTION_HOURS: 24 }, pool: t.db.pool, logger });
    try {
      await waitFor('the old key pruned', async () => ((await keptCount(old['idempotency-key'])) === 0 ? true : undefined));
    } finally {
      await pruner.stop();
    }
    expect(await keptCount(young['idempotency-key'])).toBe(1);

    const reused = await api.reserve({ orderId: `ord-other-${productId}`, items: [{ productId, quantity: 2 }] }, old);
    expect(reused.statusCode).toBe(201);
    expect(reused.headers['idempotent-replayed']).toBeUndefined();
    expect(reused.json().reservationId).not.toBe(first.json().reservationId);
    const replayed = await api.reserve({ orderId: `ord-young-${productId}`, items: [{ productId, quantity: 1 }] }, young);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(await totalsOf(t.db.pool, productId)).toEqual({ quantity: 10, reserved: 4, allocated: 0 });
  });
});
