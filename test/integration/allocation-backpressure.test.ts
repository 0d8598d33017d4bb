import pino from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { connectAmqp, type AmqpClient } from '../../src/amqp/connection';
import { startAllocationWorker } from '../../src/runners/allocation-worker';
import type { Runner } from '../../src/runners/runner';
import { enqueue, waitFor, waitForJob } from '../helpers/allocations';
import { startTestApp, type TestApp } from '../helpers/app';
import { ledgerDifferences, receiveLots, seedCatalogue } from '../helpers/stock';

/**
 * Backpressure: with ALLOCATION_MAX_BACKLOG jobs accepted and not yet served, POST /allocations
 * refuses new jobs with 503 OVERLOADED and Retry-After, records nothing, counts the refusal in a
 * metric, and takes jobs again once workers have served the backlog.
 */

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** An app bounded at three jobs, counting its backlog every `sampleMs`, with stock to serve and a worker started on demand. */
async function startBoundedApp(name: string, sampleMs: number) {
  const app = await startTestApp(name, {
    broker: true,
    env: { ALLOCATION_MAX_BACKLOG: '3', ALLOCATION_BACKLOG_SAMPLE_MS: String(sampleMs), WORKER_BATCH_WAIT_MS: '5' },
  });
  await seedCatalogue(app.db.pool, { warehouses: [{ id: 'wh-a' }], products: ['bp-p'] });
  await receiveLots(app.db.pool, [{ productId: 'bp-p', warehouseId: 'wh-a', quantity: 100 }]);
  let amqp: AmqpClient | null = null;
  let worker: Runner | null = null;
  return {
    t: app,
    async startWorker() {
      amqp = await connectAmqp(app.vhost!.url, logger, { connectionName: `${name}-worker`, maxDelayMs: 500 });
      await amqp.waitForConnect();
      worker = await startAllocationWorker({ config: app.config, pool: app.db.pool, logger, amqp });
    },
    async close() {
      await worker?.stop();
      await amqp?.close();
      await app.close();
    },
  };
}

let bounded: Awaited<ReturnType<typeof startBoundedApp>>;
let t: TestApp;

beforeAll(async () => {
  bounded = await startBoundedApp('backpressure', 20);
  t = bounded.t;
});
afterAll(async () => bounded.close());

const order = () => ({ items: [{ productId: 'bp-p', quantity: 1 }], referenceId: `ord-${uuidv7()}`, referenceType: 'order' });

async function overloadedCount(): Promise<number> {
  const text = await (await t.admin('/metrics')).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith('stockroom_allocations_overloaded_total '));
  return line ? Number(line.split(' ')[1]) : 0;
}

async function jobsUnder(key: string): Promise<number> {
  const { rows } = await t.db.pool.query<{ n: number }>(`select count(*)::int as n from allocation_requests where idempotency_key = $1`, [key]);
  return rows[0]!.n;
}

it('refuses jobs past the backlog bound with 503 OVERLOADED and Retry-After, and takes them again once the workers caught up', async () => {
  const before = await overloadedCount();
  const accepted: string[] = [];
  for (let i = 0; i < 3; i++) {
    const reply = await enqueue(t.app, order(), `bp-accepted-${i}`);
    expect(reply.statusCode).toBe(202);
    accepted.push(reply.json().allocationId);
  }

  const refused = await enqueue(t.app, order(), 'bp-refused');
  expect(refused.statusCode).toBe(503);
  expect(refused.headers['retry-after']).toBe('1');
  expect(refused.json()).toEqual({
    error: {
      code: 'OVERLOADED',
      message: expect.stringMatching(/try again in \d+ ms$/),
      details: { retryAfterSeconds: 1, retryAfterMs: expect.any(Number), backlog: 3, maxBacklog: 3 },
    },
  });
  expect(await jobsUnder('bp-refused')).toBe(0);
  expect(await overloadedCount()).toBe(before + 1);

  // nothing is served yet: the bound still holds once the backlog has been counted again
  await new Promise((resolve) => setTimeout(resolve, 60));
  expect((await enqueue(t.app, order(), 'bp-refused')).statusCode).toBe(503);
  expect((await enqueue(t.app, order(), 'bp-refused')).statusCode).toBe(503);
  expect(await jobsUnder('bp-refused')).toBe(0);

  await bounded.startWorker();
  for (const id of accepted) expect((await waitForJob(t.app, id)).status).toBe('succeeded');

  const retried = await waitFor('the intake to take jobs again', async () => {
    const reply = await enqueue(t.app, order(), 'bp-refused');
    return reply.statusCode === 202 ? reply : undefined;
  });
  expect((await waitForJob(t.app, retried.json().allocationId)).status).toBe('succeeded');
  expect(await jobsUnder('bp-refused')).toBe(1);
  expect(await ledgerDifferences(t.db.pool)).toEqual([]);
});

describe('after a quiet spell', () => {
  // counts come only when a call needs one: every minute, or before a refusal on an older figure
  let quiet: Awaited<ReturnType<typeof startBoundedApp>>;

  beforeAll(async () => {
    quiet = await startBoundedApp('backpressure-quiet', 60_000);
  });
  afterAll(async () => quiet.close());

  it('takes the first call after the workers served the backlog, though the last count found it full', async () => {
    const { app } = quiet.t;
    const accepted: string[] = [];
    for (let i = 0; i < 3; i++) {
      const reply = await enqueue(app, order(), `bq-accepted-${i}`);
      expect(reply.statusCode).toBe(202);
      accepted.push(reply.json().allocationId);
    }
    // a refusal on a figure over 100 ms old counts again first: this count finds the backlog full
    await new Promise((resolve) => setTimeout(resolve, 150));
    const refused = await enqueue(app, order(), 'bq-refused');
    expect(refused.json()).toMatchObject({ error: { code: 'OVERLOADED', details: { backlog: 3 } } });

    await quiet.startWorker();
    for (const id of accepted) expect((await waitForJob(app, id)).status).toBe('succeeded');

    // no call since the count that found the backlog full, the shortest wait ago: the next call is
    // judged on a new count (a figure younger than that refuses at once, like the one above)
    await new Promise((resolve) => setTimeout(resolve, 150));
    const taken = await enqueue(app, order(), 'bq-refused');
    expect(taken.statusCode).toBe(202);
    expect((await waitForJob(app, taken.json().allocationId)).status).toBe('succeeded');
  });
});
