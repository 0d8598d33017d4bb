import { Client } from 'pg';
import pino from 'pino';
import { loadTokenKeys } from '../../src/auth/tokens';
import { createPool } from '../../src/db/client';
import { isConnectionError } from '../../src/db/pg-errors';
import { AppError } from '../../src/errors';
import { buildServer } from '../../src/http/server';
import { createServeBatcher, type ServeBatcher, type ServeCall } from '../../src/inventory/reservations/serve-batcher';
import { batchSize } from '../../src/metrics';
import { reserveBody, serveAnswerSchema, type ReserveInput } from '../../src/schemas/reservations';
import { startTestApp, type TestApp } from '../helpers/app';
import { inventoryApi } from '../helpers/inventory-api';
import { expectBooksBalanced, receiveLots, seedCatalogue, totalsOf } from '../helpers/stock';
import { bearer } from '../helpers/tokens';

let t: TestApp;
let api: ReturnType<typeof inventoryApi>;

beforeAll(async () => {
  t = await startTestApp('serve_batcher');
  api = inventoryApi(t.app);
  await seedCatalogue(t.db.pool, { warehouses: [{ id: 'wh-a' }] });
});
afterAll(async () => t.close());

afterEach(() => expectBooksBalanced(t.db.pool));

let counter = 0;
async function product(quantity: number): Promise<string> {
  counter += 1;
  const id = `sb-${counter}`;
  await seedCatalogue(t.db.pool, { products: [id] });
  await receiveLots(t.db.pool, [{ productId: id, warehouseId: 'wh-a', quantity }]);
  return id;
}

const caller = { sub: 'checkout', role: 'service' as const };

/** A reserve call as the route hands it to the batcher. */
function reserveCall(body: Partial<ReserveInput> & Pick<ReserveInput, 'orderId' | 'items'>, key?: string): ServeCall {
  const input = reserveBody.parse(body);
  return {
    order: { mode: 'reserve', input, actor: caller.sub, owner: caller.sub },
    call: { operation: 'reserve', caller, key, body, response: serveAnswerSchema },
  };
}

/** Holds the lots of a product locked from a connection of its own until released, so a batch on them waits. */
async function holdLots(productId: string): Promise<{ release(): Promise<void> }> {
  const client = new Client({ connectionString: t.db.url });
  await client.connect();
  await client.query('begin');
  await client.query('select id from inventory_items where product_id = $1 for update', [productId]);
  return {
    async release() {
      await client.query('rollback');
      await client.end();
    },
  };
}

/** Engine transactions the sync path ran since the last reset, and the calls they served. */
async function syncBatches(): Promise<{ count: number; calls: number }> {
  const { values } = await batchSize.get();
  const of = (name: string) => values.find((value) => value.metricName === name && value.labels.path === 'sync')?.value ?? 0;
  return { count: of('stockroom_worker_batch_size_count'), calls: of('stockroom_worker_batch_size_sum') };
}

/** Settles a call into what a caller would see: the answer, or the error's code. */
const outcome = (promise: Promise<{ status: number; replayed: boolean }>) =>
  promise.then(
    (answer) => ({ status: answer.status, replayed: answer.replayed }),
    (error: unknown) => ({ code: error instanceof AppError ? error.code : String(error) }),
  );

describe('many concurrent reserves against scarce stock', () => {
  it('50 reserves of 1 against 30 units: exactly 30 get 201, 20 get 409, nothing oversold, fewer transactions than calls', async () => {
    const productId = await product(30);
    batchSize.reset();
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        api.reserve({ orderId: `scarce-${index}`, items: [{ productId, quantity: 1 }] }, { 'idempotency-key': `scarce-${index}` }),
      ),
    );
    const statuses = answers.map((answer) => answer.statusCode);
    expect(statuses.filter((status) => status === 201)).toHaveLength(30);
    expect(statuses.filter((status) => status === 409)).toHaveLength(20);
    for (const refused of answers.filter((answer) => answer.statusCode === 409)) {
      expect(refused.json().error).toMatchObject({
        code: 'INSUFFICIENT_STOCK',
        details: { shortfall: [{ productId, requestedQuantity: 1, availableQuantity: 0 }] },
      });
    }
    expect(await totalsOf(t.db.pool, productId)).toEqual({ quantity: 30, reserved: 30, allocated: 0 });
    const batches = await syncBatches();
    expect(batches.calls).toBe(50);
    expect(batches.count).toBeLessThan(50);
    // a refusal for want of stock is kept under its key like an answer
    const { rows } = await t.db.pool.query(
      `select response_status as status, count(*)::int as n from idempotency_keys where key like 'scarce-%' group by 1 order by 1`,
    );
    expect(rows).toEqual([
      { status: 201, n: 30 },
      { status: 409, n: 20 },
    ]);
  });

  it('serves calls in arrival order: the earlier calls get the stock', async () => {
    const productId = await product(5);
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, index) => api.reserve({ orderId: `order-${productId}-${index}`, items: [{ productId, quantity: 1 }] })),
    );
    expect(answers.map((answer) => answer.statusCode)).toEqual([201, 201, 201, 201, 201, 409, 409, 409]);
  });
});

describe('the serve batcher', () => {
  let batcher: ServeBatcher;
  beforeEach(() => {
    batcher = createServeBatcher(t.db.pool, t.config, { maxInFlight: 1, maxBatch: 200 });
    batchSize.reset();
  });
  afterEach(async () => batcher.close());

  it('serves the calls that wait behind a slow batch together, in ONE transaction', async () => {
    const slow = await product(100);
    const other = await product(100);
    const held = await holdLots(slow);
    const first = batcher.serve(reserveCall({ orderId: `first-${slow}`, items: [{ productId: slow, quantity: 1 }] }));
    const waiting = Array.from({ length: 20 }, (_, index) =>
      batcher.serve(reserveCall({ orderId: `waiting-${other}-${index}`, items: [{ productId: other, quantity: 1 }] })),
    );
    await held.release();
    const answers = await Promise.all([first, ...waiting]);
    expect(answers.map((answer) => answer.status)).toEqual(Array(21).fill(201));
    expect(await syncBatches()).toEqual({ count: 2, calls: 21 });
    // rows written by one transaction carry its id
    const { rows } = await t.db.pool.query(`select count(distinct xmin::text)::int as n from reservations where order_id like $1`, [`waiting-${other}-%`]);
    expect(rows[0].n).toBe(1);
    expect(await totalsOf(t.db.pool, other)).toMatchObject({ reserved: 20 });
  });

  it('answers each call of a mixed batch as if it came alone', async () => {
    const slow = await product(100);
    const productId = await product(10);
    const earlier = reserveCall({ orderId: `earlier-${productId}`, items: [{ productId, quantity: 1 }] }, `earlier-${productId}`);
    const first = await batcher.serve(earlier);
    expect(first).toMatchObject({ status: 201, replayed: false });
    batchSize.reset();

    const held = await holdLots(slow);
    const blocker = batcher.serve(reserveCall({ orderId: `blocker-${slow}`, items: [{ productId: slow, quantity: 1 }] }));
    const calls = {
      valid: outcome(batcher.serve(reserveCall({ orderId: `valid-${productId}`, items: [{ productId, quantity: 2 }] }, `valid-${productId}`))),
      unknownProduct: batcher
        .serve(
          reserveCall({
            orderId: `unknown-${productId}`,
            items: [
              { productId, quantity: 1 },
              { productId: 'no-such-product', quantity: 1 },
            ],
          }),
        )
        .catch((error: unknown) => error),
      unknownWarehouse: batcher
        .serve(reserveCall({ orderId: `nowh-${productId}`, items: [{ productId, quantity: 1, warehouseId: 'no-such-wh' }] }))
        .catch((error: unknown) => error),
      short: batcher
        .serve(reserveCall({ orderId: `short-${productId}`, items: [{ productId, quantity: 1000 }] }, `short-${productId}`))
        .catch((error: unknown) => error),
      repeat: batcher.serve(earlier),
      sameKeyFirst: outcome(batcher.serve(reserveCall({ orderId: `dup-${productId}`, items: [{ productId, quantity: 3 }] }, `dup-${productId}`))),
      sameKeyOther: outcome(batcher.serve(reserveCall({ orderId: `dup-${productId}`, items: [{ productId, quantity: 4 }] }, `dup-${productId}`))),
    };
    await held.release();
    await blocker;

    expect(await calls.valid).toEqual({ status: 201, replayed: false });
    expect(await calls.unknownProduct).toMatchObject({ code: 'UNKNOWN_REFERENCE', details: { unknownProducts: ['no-such-product'] } });
    expect(((await calls.unknownProduct) as AppError).details).not.toHaveProperty('unknownWarehouses');
    expect(await calls.unknownWarehouse).toMatchObject({ code: 'UNKNOWN_REFERENCE', details: { unknownWarehouses: ['no-such-wh'] } });
    expect(await calls.short).toMatchObject({
      code: 'INSUFFICIENT_STOCK',
      details: { shortfall: [{ productId, requestedQuantity: 1000, availableQuantity: 7 }] },
    });
    const repeat = await calls.repeat;
    expect(repeat).toMatchObject({ status: 201, replayed: true });
    expect(repeat.body).toEqual(first.body);
    expect(await calls.sameKeyFirst).toEqual({ status: 201, replayed: false });
    expect(await calls.sameKeyOther).toEqual({ code: 'IDEMPOTENCY_MISMATCH' });

    // the blocker alone, then valid, the two unknown, short and the first of the same key together
    expect(await syncBatches()).toEqual({ count: 2, calls: 6 });
    expect(await totalsOf(t.db.pool, productId)).toEqual({ quantity: 10, reserved: 1 + 2 + 3, allocated: 0 });
    const { rows } = await t.db.pool.query(`select key from idempotency_keys where key like $1 order by key`, [`%-${productId}`]);
    // the refusal for want of stock is kept under its key with the answers
    expect(rows.map((row) => row.key)).toEqual([`dup-${productId}`, `earlier-${productId}`, `short-${productId}`, `valid-${productId}`]);
  });

  it('a call that breaks its batch fails alone; the others are served one by one', async () => {
    const slow = await product(100);
    const productId = await product(10);
    const held = await holdLots(slow);
    const blocker = batcher.serve(reserveCall({ orderId: `blocker-${slow}`, items: [{ productId: slow, quantity: 1 }] }));
    const good = [1, 2].map((n) => batcher.serve(reserveCall({ orderId: `good-${productId}-${n}`, items: [{ productId, quantity: 1 }] })));
    // the engine refuses a nearest_location request without a destination for its whole batch
    const bad = reserveCall({ orderId: `bad-${productId}`, items: [{ productId, quantity: 1 }] });
    bad.order.input = { ...bad.order.input, strategy: 'nearest_location' };
    const broken = batcher.serve(bad).catch((error: unknown) => error);
    await held.release();
    await blocker;
    expect((await Promise.all(good)).map((answer) => answer.status)).toEqual([201, 201]);
    expect(await broken).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await totalsOf(t.db.pool, productId)).toMatchObject({ reserved: 2 });
  });

  it('replays the winner when another process took the same key meanwhile', async () => {
    const productId = await product(10);
    const elsewhere = createPool(t.db.url, 2);
    const other = createServeBatcher(elsewhere, t.config);
    try {
      const held = await holdLots(productId);
      const body = { orderId: `race-${productId}`, items: [{ productId, quantity: 2 }] };
      const both = [batcher.serve(reserveCall(body, `race-${productId}`)), other.serve(reserveCall(body, `race-${productId}`))];
      await held.release();
      const answers = await Promise.all(both);
      expect(answers.map((answer) => answer.status)).toEqual([201, 201]);
      expect(answers.map((answer) => answer.replayed).sort()).toEqual([false, true]);
      expect(answers[0]!.body).toEqual(answers[1]!.body);
      expect(await totalsOf(t.db.pool, productId)).toMatchObject({ reserved: 2 });
    } finally {
      await other.close();
      await elsewhere.end();
    }
  });

  it('rejects every call of a batch with the connection error when the database is gone', async () => {
    const gone = createPool('postgres://nobody:nothing@127.0.0.1:1/none', 2);
    const lost = createServeBatcher(gone, t.config);
    try {
      const errors = await Promise.all(
        [1, 2, 3].map((n) =>
          lost.serve(reserveCall({ orderId: `gone-${n}`, items: [{ productId: 'any', quantity: 1 }] }, `gone-${n}`)).catch((error: unknown) => error),
        ),
      );
      for (const error of errors) expect(isConnectionError(error)).toBe(true);
    } finally {
      await gone.end();
    }
  });
});

describe('through HTTP', () => {
  it('answers 503 to every waiting call while Postgres cannot be reached', async () => {
    const unreachable = createPool('postgres://postgres@127.0.0.1:1/none', 1);
    const app = await buildServer({ config: t.config, pool: unreachable, logger: pino({ level: 'silent' }), amqp: null, tokenKeys: loadTokenKeys(t.config) });
    try {
      const replies = await Promise.all(
        [1, 2, 3].map((n) =>
          app.inject({
            method: 'POST',
            url: '/api/v1/inventory/reserve',
            headers: bearer('service', 'checkout'),
            payload: { orderId: `down-${n}`, items: [{ productId: 'p', quantity: 1 }] },
          }),
        ),
      );
      expect(replies.map((reply) => reply.statusCode)).toEqual([503, 503, 503]);
      expect(replies[0]!.json().error.code).toBe('DEPENDENCY_UNAVAILABLE');
    } finally {
      await app.close();
      await unreachable.end();
    }
  });

  it('refuses a hold above the maximum with 400 before serving anything', async () => {
    const productId = await product(5);
    const response = await api.reserve({
      orderId: `long-${productId}`,
      items: [{ productId, quantity: 1 }],
      timeoutMinutes: t.config.RESERVATION_MAX_MINUTES + 1,
    });
    expect(response.statusCode).toBe(400);
    expect(await totalsOf(t.db.pool, productId)).toMatchObject({ reserved: 0 });
  });

  it('allocates directly through the same batches: concurrent direct allocations never oversell', async () => {
    const productId = await product(12);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, index) => api.allocate({ orderId: `direct-${productId}-${index}`, items: [{ productId, quantity: 1 }] })),
    );
    expect(answers.filter((answer) => answer.statusCode === 201)).toHaveLength(12);
    expect(answers.filter((answer) => answer.statusCode === 409)).toHaveLength(8);
    expect(await totalsOf(t.db.pool, productId)).toEqual({ quantity: 12, reserved: 0, allocated: 12 });
  });
});
