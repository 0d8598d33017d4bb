import amqplib from 'amqplib';
import pino from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { connectAmqp, type AmqpClient } from '../../src/amqp/connection';
import { loadTokenKeys } from '../../src/auth/tokens';
import type { Config } from '../../src/config';
import { createPool } from '../../src/db/client';
import { buildServer } from '../../src/http/server';
import { startAllocationRelay } from '../../src/runners/allocation-relay';
import { startAllocationWorker } from '../../src/runners/allocation-worker';
import type { Runner } from '../../src/runners/runner';
import { closeVhostConnections } from '../helpers/amqp';
import { startTestApp, type TestApp } from '../helpers/app';
import { admin, enqueue, service, waitFor, waitForJob } from '../helpers/allocations';
import { ledgerDifferences, lotsOf, receiveLots, reservationBookDifferences, seedCatalogue, totalsOf } from '../helpers/stock';

let t: TestApp;
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const clients: AmqpClient[] = [];

beforeAll(async () => {
  t = await startTestApp('alloc-queue', {
    broker: true,
    env: { JOB_RETRY_DELAYS_MS: '50,100', ALLOCATION_RELAY_AFTER_MS: '0', ALLOCATION_RELAY_INTERVAL_MS: '50', WORKER_BATCH_WAIT_MS: '5' },
  });
  await seedCatalogue(t.db.pool, {
    warehouses: [{ id: 'wh-a' }, { id: 'wh-b' }],
    products: ['fifo-p', 'key-p', 'prio-p', 'late-p', 'poison-p', 'retry-p', 'relay-p', 'lost-p', 'hot-p', 'drop-p', 'cut-p'],
  });
});
afterEach(async () => {
  expect(await ledgerDifferences(t.db.pool)).toEqual([]);
  expect(await reservationBookDifferences(t.db.pool)).toEqual([]);
});
afterAll(async () => {
  for (const client of clients) await client.close();
  await t.close();
});

/** A worker of its own connection, as a separate process would have. */
async function startWorker(overrides: Partial<Config> = {}): Promise<Runner> {
  const amqp = await connectAmqp(t.vhost!.url, logger, { connectionName: `worker-${clients.length}`, maxDelayMs: 500 });
  clients.push(amqp);
  await amqp.waitForConnect();
  return startAllocationWorker({ config: { ...t.config, ...overrides }, pool: t.db.pool, logger, amqp });
}

function order(productId: string, quantity: number, extra: Record<string, unknown> = {}) {
  return { items: [{ productId, quantity }], referenceId: `ord-${uuidv7()}`, referenceType: 'order', ...extra };
}

describe('POST /allocations', () => {
  it('queues a job that a worker serves with the right lots (fifo: oldest lot first)', async () => {
    const [older, newer] = await receiveLots(t.db.pool, [
      { productId: 'fifo-p', warehouseId: 'wh-a', quantity: 4, receivedAt: new Date('2030-01-01T00:00:00Z'), lotNumber: 'L-OLD' },
      { productId: 'fifo-p', warehouseId: 'wh-b', quantity: 10, receivedAt: new Date('2030-02-01T00:00:00Z'), lotNumber: 'L-NEW' },
    ]);
    const reply = await enqueue(t.app, order('fifo-p', 6, { mode: 'allocate', priority: 'high' }));
    expect(reply.statusCode).toBe(202);
    const accepted = reply.json();
    expect(accepted).toEqual({
      allocationId: expect.any(String),
      status: 'queued',
      idempotencyKey: expect.any(String),
      priority: 'high',
      message: expect.any(String),
    });
    expect(reply.headers['idempotency-key']).toBe(accepted.idempotencyKey);

    const worker = await startWorker();
    try {
      const view = await waitForJob(t.app, accepted.allocationId);
      expect(view.status).toBe('succeeded');
      expect(view.result).toMatchObject({
        allocationId: accepted.allocationId,
        status: 'succeeded',
        allocatedItems: [
          { productId: 'fifo-p', warehouseId: 'wh-a', lotId: older, lotNumber: 'L-OLD', quantity: 4 },
          { productId: 'fifo-p', warehouseId: 'wh-b', lotId: newer, lotNumber: 'L-NEW', quantity: 2 },
        ],
        failedItems: [],
        totalRequested: 6,
        totalAllocated: 6,
        reservationId: expect.any(String),
        executionTimeMs: expect.any(Number),
        idempotencyKey: accepted.idempotencyKey,
      });
      expect(new Date(view.result.completedAt).getTime()).toBeGreaterThanOrEqual(new Date(view.result.createdAt).getTime());
      // one attempt, counted with its start in the write that finished it
      expect(view.attempts).toBe(1);
      expect(new Date(view.startedAt).getTime()).toBeGreaterThanOrEqual(new Date(view.createdAt).getTime());
      expect(new Date(view.startedAt).getTime()).toBeLessThanOrEqual(new Date(view.result.completedAt).getTime());
      expect(await totalsOf(t.db.pool, 'fifo-p')).toEqual({ quantity: 14, reserved: 0, allocated: 6 });

      const listed = await t.app.inject({ method: 'GET', url: `/api/v1/allocations?referenceId=${view.referenceId}`, headers: service });
      expect(listed.json().items.map((item: { allocationId: string }) => item.allocationId)).toEqual([accepted.allocationId]);
    } finally {
      await worker.stop();
    }
  });

  it('keeps one allocation per Idempotency-Key and refuses the key with another body', async () => {
    const body = order('key-p', 1);
    const first = await enqueue(t.app, body, 'key-once');
    const again = await enqueue(t.app, body, 'key-once');
    expect(first.statusCode).toBe(202);
    expect(again.statusCode).toBe(202);
    expect(again.json().allocationId).toBe(first.json().allocationId);
    expect(again.headers['idempotent-replayed']).toBe('true');

    const other = await enqueue(t.app, { ...body, items: [{ productId: 'key-p', quantity: 2 }] }, 'key-once');
    expect(other.statusCode).toBe(422);
    expect(other.json().error.code).toBe('IDEMPOTENCY_MISMATCH');
    const { rows } = await t.db.pool.query(`select count(*)::int as n from allocation_requests where idempotency_key = 'key-once'`);
    expect(rows[0].n).toBe(1);
  });

  it.each([
    ['no items', { items: [], referenceId: 'r', referenceType: 'order' }],
    ['a zero quantity', { items: [{ productId: 'key-p', quantity: 0 }], referenceId: 'r', referenceType: 'order' }],
    ['an unknown strategy', { ...order('key-p', 1), strategy: 'random' }],
    ['nearest_location without a destination', { ...order('key-p', 1), strategy: 'nearest_location' }],
    ['an unknown field', { ...order('key-p', 1), colour: 'red' }],
    ['no referenceId', { items: [{ productId: 'key-p', quantity: 1 }], referenceType: 'order' }],
  ])('refuses a body with %s (400) and records nothing', async (_case, body) => {
    const before = (await t.db.pool.query(`select count(*)::int as n from allocation_requests`)).rows[0].n;
    const reply = await enqueue(t.app, body);
    expect(reply.statusCode).toBe(400);
    expect(reply.json().error.code).toBe('VALIDATION_FAILED');
    expect((await t.db.pool.query(`select count(*)::int as n from allocation_requests`)).rows[0].n).toBe(before);
  });

  it('answers 503 and accepts nothing while Postgres cannot be reached', async () => {
    const unreachable = createPool('postgres://postgres@127.0.0.1:1/none', 1);
    const app = await buildServer({ config: t.config, pool: unreachable, logger, amqp: null, tokenKeys: loadTokenKeys(t.config) });
    try {
      const reply = await enqueue(app, order('key-p', 1));
      expect(reply.statusCode).toBe(503);
      expect(reply.json().error.code).toBe('DEPENDENCY_UNAVAILABLE');
    } finally {
      await app.close();
      await unreachable.end();
    }
  });

  it('answers 404 for an unknown allocation and 401 without a token', async () => {
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/allocations/${uuidv7()}`, headers: service })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/allocations', payload: order('key-p', 1) })).statusCode).toBe(401);
  });
});

describe('the worker', () => {
  it('serves critical before low when both wait in the queue', async () => {
    await receiveLots(t.db.pool, [{ productId: 'prio-p', warehouseId: 'wh-a', quantity: 5 }]);
    const low = (await enqueue(t.app, order('prio-p', 5, { priority: 'low' }))).json();
    const critical = (await enqueue(t.app, order('prio-p', 5, { priority: 'critical' }))).json();
    expect([low.priority, critical.priority]).toEqual(['low', 'critical']);
    // one message at a time, so the order is the broker's priority order
    const worker = await startWorker({ WORKER_CONCURRENCY: 1, WORKER_BATCH_SIZE: 1 });
    try {
      expect((await waitForJob(t.app, critical.allocationId)).status).toBe('succeeded');
      const lowView = await waitForJob(t.app, low.allocationId);
      expect(lowView.status).toBe('failed');
      expect(lowView.result.failedItems).toEqual([
        { productId: 'prio-p', requestedQuantity: 5, availableQuantity: 0, reason: 'insufficient_inventory', errorMessage: expect.any(String) },
      ]);
    } finally {
      await worker.stop();
    }
  });

  it('fails a job whose timeoutMs passed before it started with timeout, touching no stock', async () => {
    await receiveLots(t.db.pool, [{ productId: 'late-p', warehouseId: 'wh-a', quantity: 5 }]);
    const job = (await enqueue(t.app, order('late-p', 2, { timeoutMs: 1 }))).json();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const worker = await startWorker();
    try {
      const view = await waitForJob(t.app, job.allocationId);
      expect(view.status).toBe('failed');
      expect(view.result.failedItems).toEqual([expect.objectContaining({ productId: 'late-p', reason: 'timeout' })]);
      expect(view.result.allocatedItems).toEqual([]);
      expect(await totalsOf(t.db.pool, 'late-p')).toEqual({ quantity: 5, reserved: 0, allocated: 0 });
    } finally {
      await worker.stop();
    }
  });

  it('lets two workers share one hot product without overselling', async () => {
    await receiveLots(t.db.pool, [
      { productId: 'hot-p', warehouseId: 'wh-a', quantity: 60 },
      { productId: 'hot-p', warehouseId: 'wh-b', quantity: 40 },
    ]);
    const workers = [await startWorker({ WORKER_BATCH_SIZE: 7 }), await startWorker({ WORKER_BATCH_SIZE: 7 })];
    try {
      const replies = await Promise.all(Array.from({ length: 50 }, () => enqueue(t.app, order('hot-p', 3))));
      const views = await Promise.all(replies.map((reply) => waitForJob(t.app, reply.json().allocationId)));
      const byStatus = views.reduce<Record<string, number>>((count, view) => ({ ...count, [view.status]: (count[view.status] ?? 0) + 1 }), {});
      expect(byStatus).toEqual({ succeeded: 33, failed: 17 });
      expect(await totalsOf(t.db.pool, 'hot-p')).toEqual({ quantity: 100, reserved: 99, allocated: 0 });
      const { rows } = await t.db.pool.query(`select count(*)::int as n from allocation_results where allocation_id = any($1::uuid[])`, [
        views.map((view) => view.allocationId),
      ]);
      expect(rows[0].n).toBe(50);
    } finally {
      await Promise.all(workers.map((worker) => worker.stop()));
    }
  });

  it('reconnects after the broker closes its connections; jobs accepted meanwhile and after are served', async () => {
    await receiveLots(t.db.pool, [{ productId: 'drop-p', warehouseId: 'wh-a', quantity: 10 }]);
    const worker = await startWorker();
    const relay = await startAllocationRelay({ config: t.config, pool: t.db.pool, logger, amqp: t.amqp! });
    try {
      const before = (await enqueue(t.app, order('drop-p', 1))).json();
      expect((await waitForJob(t.app, before.allocationId)).status).toBe('succeeded');

      await closeVhostConnections(t.vhost!.name);
      // accepted while the api may still be reconnecting: committed first, so never lost
      const during = await enqueue(t.app, order('drop-p', 2));
      expect(during.statusCode).toBe(202);
      await waitFor('readiness', async () => ((await t.app.inject({ method: 'GET', url: '/health/ready' })).statusCode === 200 ? true : undefined));
      const after = (await enqueue(t.app, order('drop-p', 3))).json();

      expect((await waitForJob(t.app, during.json().allocationId)).status).toBe('succeeded');
      expect((await waitForJob(t.app, after.allocationId)).status).toBe('succeeded');
      expect(await totalsOf(t.db.pool, 'drop-p')).toEqual({ quantity: 10, reserved: 6, allocated: 0 });
    } finally {
      await relay.stop();
      await worker.stop();
    }
  });
  it('carries on when its database connections are cut mid-work: every job ends once', async () => {
    await receiveLots(t.db.pool, [{ productId: 'cut-p', warehouseId: 'wh-a', quantity: 40 }]);
    const worker = await startWorker({ WORKER_BATCH_SIZE: 5 });
    try {
      const replies = await Promise.all(Array.from({ length: 30 }, () => enqueue(t.app, order('cut-p', 1))));
      // as a Postgres restart would: every server connection of this database goes away at once
      await t.db.pool.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`);
      const views = await Promise.all(replies.map((reply) => waitForJob(t.app, reply.json().allocationId)));
      expect(views.map((view) => view.status)).toEqual(views.map(() => 'succeeded'));
      expect(await totalsOf(t.db.pool, 'cut-p')).toEqual({ quantity: 40, reserved: 30, allocated: 0 });
    } finally {
      await worker.stop();
    }
  });
});

describe('retries and dead letters', () => {
  it('retries a transient failure, dead-letters it after JOB_MAX_ATTEMPTS, and replays it once the cause is fixed', async () => {
    await receiveLots(t.db.pool, [{ productId: 'retry-p', warehouseId: 'wh-a', quantity: 5 }]);
    // a serialization failure on every result write of this product's jobs, as a busy database gives
    await t.db.pool.query(`
      create function fail_retry_p() returns trigger language plpgsql as $$
      begin
        if new.result::text like '%retry-p%' then
          raise exception 'could not serialize access due to concurrent update' using errcode = '40001';
        end if;
        return new;
      end $$;
      create trigger fail_retry_p before insert on allocation_results for each row execute function fail_retry_p();`);
    const worker = await startWorker();
    try {
      const job = (await enqueue(t.app, order('retry-p', 2))).json();
      const view = await waitForJob(t.app, job.allocationId);
      expect(view.status).toBe('dead_lettered');
      expect(view.attempts).toBe(3);
      expect(view.lastError).toMatch(/could not serialize/);
      expect(await totalsOf(t.db.pool, 'retry-p')).toEqual({ quantity: 5, reserved: 0, allocated: 0 });

      const letters = (await t.app.inject({ method: 'GET', url: '/api/v1/admin/dead-letters?status=open', headers: admin })).json().items;
      const letter = letters.find((item: { allocationId: string | null }) => item.allocationId === job.allocationId);
      expect(letter).toMatchObject({
        reason: 'retries_exhausted',
        attempts: 3,
        firstError: expect.stringMatching(/could not serialize/),
        lastError: expect.stringMatching(/could not serialize/),
        payload: { allocationId: job.allocationId },
        status: 'open',
      });

      await t.db.pool.query(`drop trigger fail_retry_p on allocation_results; drop function fail_retry_p();`);
      const replay = await t.app.inject({ method: 'POST', url: `/api/v1/admin/dead-letters/${letter.id}/replay`, headers: admin });
      expect(replay.statusCode).toBe(200);
      expect(replay.json().status).toBe('replayed');
      const replayed = await waitForJob(t.app, job.allocationId);
      expect(replayed.status).toBe('succeeded');
      expect(replayed.attempts).toBe(1);
      expect(await totalsOf(t.db.pool, 'retry-p')).toEqual({ quantity: 5, reserved: 2, allocated: 0 });

      const twice = await t.app.inject({ method: 'POST', url: `/api/v1/admin/dead-letters/${letter.id}/replay`, headers: admin });
      expect(twice.statusCode).toBe(409);
    } finally {
      await worker.stop();
    }
  });

  it('dead-letters poison messages published straight to the queue, lists them, replays and purges them', async () => {
    await receiveLots(t.db.pool, [{ productId: 'poison-p', warehouseId: 'wh-a', quantity: 5 }]);
    const orphanId = uuidv7();
    const raw = await amqplib.connect(t.vhost!.url);
    const worker = await startWorker();
    try {
      const channel = await raw.createConfirmChannel();
      channel.sendToQueue(t.config.ALLOCATION_QUEUE, Buffer.from('{not json'), { persistent: true });
      channel.sendToQueue(t.config.ALLOCATION_QUEUE, Buffer.from(JSON.stringify({ allocationId: orphanId })), { persistent: true });
      await channel.waitForConfirms();

      const letters = await waitFor('two dead letters', async () => {
        const items = (await t.app.inject({ method: 'GET', url: '/api/v1/admin/dead-letters?status=open', headers: admin })).json().items;
        const poison = items.filter((item: { reason: string }) => ['unparseable', 'unknown_allocation'].includes(item.reason));
        return poison.length === 2 ? poison : undefined;
      });
      const unparseable = letters.find((item: { reason: string }) => item.reason === 'unparseable');
      const orphan = letters.find((item: { reason: string }) => item.reason === 'unknown_allocation');
      expect(unparseable).toMatchObject({ allocationId: null, payload: { raw: '{not json' }, lastError: expect.stringMatching(/not JSON/) });
      expect(orphan).toMatchObject({ allocationId: null, payload: { allocationId: orphanId } });
      // the broker keeps its own copy in the dead-letter queue
      await waitFor('the broker copies', async () => ((await channel.checkQueue(`${t.config.ALLOCATION_QUEUE}.dead`)).messageCount >= 2 ? true : undefined));
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/admin/dead-letters', headers: service })).statusCode).toBe(403);

      // the cause: the job's producer had not committed it yet; once it exists the replay serves it
      await t.db.pool.query(
        `insert into allocation_requests (id, owner, idempotency_key, request_hash, priority, mode, reference_id, reference_type, request, actor)
         values ($1::uuid, 'checkout', $1::text, 'h', 'medium', 'reserve', 'ord-orphan', 'order', $2, 'checkout')`,
        [orphanId, JSON.stringify(order('poison-p', 3))],
      );
      const replay = await t.app.inject({ method: 'POST', url: `/api/v1/admin/dead-letters/${orphan.id}/replay`, headers: admin });
      expect(replay.statusCode).toBe(200);
      expect((await waitForJob(t.app, orphanId)).status).toBe('succeeded');
      expect(await totalsOf(t.db.pool, 'poison-p')).toEqual({ quantity: 5, reserved: 3, allocated: 0 });

      const purge = await t.app.inject({ method: 'DELETE', url: `/api/v1/admin/dead-letters/${unparseable.id}`, headers: admin });
      expect(purge.statusCode).toBe(204);
      expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/admin/dead-letters/${unparseable.id}`, headers: admin })).statusCode).toBe(404);
    } finally {
      await worker.stop();
      await raw.close();
    }
  });
});

describe('the relay', () => {
  it('publishes a job accepted while the broker was away, and the worker serves it', async () => {
    await receiveLots(t.db.pool, [{ productId: 'relay-p', warehouseId: 'wh-a', quantity: 5 }]);
    // an api process with no broker connection still accepts: the job waits in Postgres
    const offline = await buildServer({ config: t.config, pool: t.db.pool, logger, amqp: null, tokenKeys: loadTokenKeys(t.config) });
    let relay: Runner | null = null;
    const worker = await startWorker();
    try {
      const job = (await enqueue(offline, order('relay-p', 4))).json();
      expect(job.status).toBe('queued');
      const { rows } = await t.db.pool.query(`select published_at from allocation_requests where id = $1`, [job.allocationId]);
      expect(rows[0].published_at).toBeNull();

      relay = await startAllocationRelay({ config: t.config, pool: t.db.pool, logger, amqp: t.amqp! });
      expect((await waitForJob(t.app, job.allocationId)).status).toBe('succeeded');
      const published = await t.db.pool.query(`select published_at from allocation_requests where id = $1`, [job.allocationId]);
      expect(published.rows[0].published_at).not.toBeNull();
      expect((await lotsOf(t.db.pool, 'relay-p'))[0]).toMatchObject({ reserved: 4 });
    } finally {
      await relay?.stop();
      await worker.stop();
      await offline.close();
    }
  });

  it('publishes again a job whose message was lost after the broker confirmed it, and the worker serves it once', async () => {
    await receiveLots(t.db.pool, [{ productId: 'lost-p', warehouseId: 'wh-a', quantity: 5 }]);
    const body = order('lost-p', 3);
    const job = (await enqueue(t.app, body)).json();
    await waitFor('the confirm to be noted', async () => {
      const { rows } = await t.db.pool.query(`select published_at from allocation_requests where id = $1`, [job.allocationId]);
      return rows[0].published_at === null ? undefined : true;
    });
    // the message goes (a purge, a deleted queue, a broker that lost its disk); the job says it was published
    await t.amqp!.runNow(async (model) => {
      const channel = await model.createChannel();
      expect((await channel.purgeQueue(t.config.ALLOCATION_QUEUE)).messageCount).toBe(1);
      await channel.close();
    });
    const worker = await startWorker();
    const relay = await startAllocationRelay({ config: { ...t.config, ALLOCATION_REPUBLISH_AFTER_MS: 1000 }, pool: t.db.pool, logger, amqp: t.amqp! });
    try {
      expect((await waitForJob(t.app, job.allocationId)).status).toBe('succeeded');
      expect(await totalsOf(t.db.pool, 'lost-p')).toEqual({ quantity: 5, reserved: 3, allocated: 0 });
      const { rows } = await t.db.pool.query(`select count(*)::int as n from reservations where order_id = $1`, [body.referenceId]);
      expect(rows[0].n).toBe(1);
    } finally {
      await relay.stop();
      await worker.stop();
    }
  });
});
