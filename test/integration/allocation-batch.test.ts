import amqplib from 'amqplib';
import pino from 'pino';
import { allocationPartitions } from '../../src/amqp/topology';
import { connectAmqp, type AmqpClient } from '../../src/amqp/connection';
import { signToken, type Caller } from '../../src/auth/tokens';
import { partitionOf } from '../../src/domain/partition';
import { startAllocationWorker } from '../../src/runners/allocation-worker';
import type { Runner } from '../../src/runners/runner';
import { admin, enqueue, service, waitFor, waitForJob } from '../helpers/allocations';
import { startTestApp, type TestApp } from '../helpers/app';
import { ledgerDifferences, receiveLots, seedCatalogue, totalsOf } from '../helpers/stock';
import { testJwtSecret } from '../helpers/tokens';

/**
 * Bulk intake, POST /allocations/batch, against real Postgres and RabbitMQ: each entry checked,
 * keyed and answered as POST /allocations answers it alone; the valid ones recorded together and
 * served by the worker; the invalid ones changing nothing; the whole batch refused by the backlog
 * bound; each job published to its product's partition.
 */

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const as = (caller: Caller) => ({ authorization: `Bearer ${signToken(testJwtSecret, caller)}` });

type Headers = Record<string, string>;
const job = (productId: string, referenceId: string, quantity = 1) => ({ items: [{ productId, quantity }], referenceId, referenceType: 'order' });

function postBatch(t: TestApp, jobs: unknown[], headers: Headers = service) {
  return t.app.inject({ method: 'POST', url: '/api/v1/allocations/batch', headers, payload: { jobs } });
}

async function jobsUnder(t: TestApp, keys: string[]): Promise<number> {
  const { rows } = await t.db.pool.query<{ n: number }>(`select count(*)::int as n from allocation_requests where idempotency_key = any($1::text[])`, [keys]);
  return rows[0]!.n;
}

describe('a batch served by the worker', () => {
  let t: TestApp;
  let amqp: AmqpClient;
  let worker: Runner;

  beforeAll(async () => {
    t = await startTestApp('allocation-batch', { broker: true, env: { WORKER_BATCH_WAIT_MS: '5' } });
    await seedCatalogue(t.db.pool, { warehouses: [{ id: 'wh-a' }], products: ['bb-1', 'bb-2'] });
    await receiveLots(t.db.pool, [
      { productId: 'bb-1', warehouseId: 'wh-a', quantity: 100 },
      { productId: 'bb-2', warehouseId: 'wh-a', quantity: 100 },
    ]);
    amqp = await connectAmqp(t.vhost!.url, logger, { connectionName: 'allocation-batch-worker', maxDelayMs: 500 });
    await amqp.waitForConnect();
    worker = await startAllocationWorker({ config: t.config, pool: t.db.pool, logger, amqp });
  });
  afterAll(async () => {
    await worker.stop();
    await amqp.close();
    await t.close();
  });

  it('accepts the valid entries, which the worker serves, and answers each invalid one with its own error, changing nothing for it', async () => {
    const reply = await postBatch(t, [
      { idempotencyKey: 'mixed-0', request: job('bb-1', 'ord-mixed-0', 2) },
      { idempotencyKey: 'mixed-1', request: { ...job('bb-1', 'ord-mixed-1'), items: [{ productId: 'bb-1', quantity: 0 }] } },
      { idempotencyKey: 'mixed-2', request: { ...job('bb-2', 'ord-mixed-2', 3), priority: 'critical' } },
      { idempotencyKey: 'mixed-3', request: { ...job('bb-2', 'ord-mixed-3'), reservationMinutes: 10_000_000 } },
      'not a job',
      { idempotencyKey: 'mixed 5', request: job('bb-1', 'ord-mixed-5') },
    ]);
    expect(reply.statusCode).toBe(200);
    const answer = reply.json();
    expect(answer).toMatchObject({ accepted: 2, refused: 4 });
    expect(answer.results.map((result: { index: number; status: number }) => [result.index, result.status])).toEqual([
      [0, 202],
      [1, 400],
      [2, 202],
      [3, 400],
      [4, 400],
      [5, 400],
    ]);
    // a 202 entry is the body POST /allocations answers
    expect(answer.results[0]).toEqual({
      index: 0,
      status: 202,
      replayed: false,
      body: {
        allocationId: expect.any(String),
        status: 'queued',
        idempotencyKey: 'mixed-0',
        priority: 'medium',
        message: 'Allocation request queued for processing',
      },
    });
    expect(answer.results[2].body.priority).toBe('critical');
    // a refused entry is the error body, with its index and issues named as in a whole body
    expect(answer.results[1].body).toEqual({
      error: {
        code: 'VALIDATION_FAILED',
        message: 'Invalid job at index 1',
        details: { index: 1, issues: [expect.objectContaining({ path: 'request.items.0.quantity', code: 'too_small' })] },
      },
    });
    expect(answer.results[3].body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { index: 3, issues: [{ path: 'reservationMinutes' }] } });
    expect(answer.results[4].body.error.details.issues[0]).toMatchObject({ path: '', code: 'invalid_type' });
    expect(answer.results[5].body.error.details.issues[0]).toMatchObject({ path: 'idempotencyKey' });
    expect(await jobsUnder(t, ['mixed-1', 'mixed-3', 'mixed 5'])).toBe(0);

    const served = await Promise.all([waitForJob(t.app, answer.results[0].body.allocationId), waitForJob(t.app, answer.results[2].body.allocationId)]);
    expect(served.map((view) => [view.status, view.result.totalAllocated])).toEqual([
      ['succeeded', 2],
      ['succeeded', 3],
    ]);
    expect((await totalsOf(t.db.pool, 'bb-1')).reserved).toBe(2);
    expect((await totalsOf(t.db.pool, 'bb-2')).reserved).toBe(3);
    expect(await ledgerDifferences(t.db.pool)).toEqual([]);
  });

  it('replays a whole batch sent again with the same keys: the same jobs, nothing doubled', async () => {
    const jobs = Array.from({ length: 5 }, (_, i) => ({ idempotencyKey: `again-${i}`, request: job('bb-1', `ord-again-${i}`) }));
    const first = (await postBatch(t, jobs)).json();
    expect(first).toMatchObject({ accepted: 5, refused: 0 });
    const second = (await postBatch(t, jobs)).json();
    expect(second).toMatchObject({ accepted: 5, refused: 0 });
    second.results.forEach((result: Record<string, any>, i: number) => {
      expect(result).toMatchObject({ status: 202, replayed: true, body: { allocationId: first.results[i].body.allocationId } });
      expect(result.body.message).toBe('Allocation request already accepted under this Idempotency-Key');
    });
    expect(
      await jobsUnder(
        t,
        jobs.map((entry) => entry.idempotencyKey),
      ),
    ).toBe(5);
  });

  it('shares keys with POST /allocations both ways, and refuses a key reused with another request with 422 for that entry alone', async () => {
    const single = await enqueue(t.app, job('bb-2', 'ord-cross-single'), 'cross-single');
    expect(single.statusCode).toBe(202);
    const batch = (
      await postBatch(t, [
        { idempotencyKey: 'cross-single', request: job('bb-2', 'ord-cross-single') },
        { idempotencyKey: 'cross-batch', request: job('bb-2', 'ord-cross-batch') },
        { idempotencyKey: 'cross-single', request: job('bb-2', 'ord-cross-other') },
        { idempotencyKey: 'cross-twice', request: job('bb-2', 'ord-cross-twice') },
        { idempotencyKey: 'cross-twice', request: job('bb-2', 'ord-cross-twice') },
      ])
    ).json();
    expect(batch.results[0]).toMatchObject({ status: 202, replayed: true, body: { allocationId: single.json().allocationId } });
    expect(batch.results[1]).toMatchObject({ status: 202, replayed: false });
    expect(batch.results[2]).toMatchObject({
      status: 422,
      body: { error: { code: 'IDEMPOTENCY_MISMATCH', details: { allocationId: single.json().allocationId, index: 2 } } },
    });
    // the same key twice in one batch: one job, the second entry its replay
    expect(batch.results[4]).toMatchObject({ status: 202, replayed: true, body: { allocationId: batch.results[3].body.allocationId } });

    const replayedSingle = await enqueue(t.app, job('bb-2', 'ord-cross-batch'), 'cross-batch');
    expect(replayedSingle.statusCode).toBe(202);
    expect(replayedSingle.headers['idempotent-replayed']).toBe('true');
    expect(replayedSingle.json().allocationId).toBe(batch.results[1].body.allocationId);
    expect((await enqueue(t.app, job('bb-2', 'ord-cross-changed'), 'cross-batch')).statusCode).toBe(422);
    expect(await jobsUnder(t, ['cross-single', 'cross-batch', 'cross-twice'])).toBe(3);
  });

  it('keeps each owner to its own jobs and keys', async () => {
    const tenantA = as({ sub: 'checkout-a', role: 'service', tenant: 'batch-tenant-a' });
    const tenantB = as({ sub: 'checkout-b', role: 'service', tenant: 'batch-tenant-b' });
    const entries = [{ idempotencyKey: 'owned-1', request: job('bb-1', 'ord-owned-1') }];
    const ofA = (await postBatch(t, entries, tenantA)).json().results[0];
    const ofB = (await postBatch(t, entries, tenantB)).json().results[0];
    expect(ofA).toMatchObject({ status: 202, replayed: false });
    // B's entry under A's key is B's own job, not A's replayed
    expect(ofB).toMatchObject({ status: 202, replayed: false });
    expect(ofB.body.allocationId).not.toBe(ofA.body.allocationId);
    const viewOfA = await t.app.inject({ method: 'GET', url: `/api/v1/allocations/${ofA.body.allocationId}`, headers: tenantB });
    expect(viewOfA.statusCode).toBe(404);
    const owners = await t.app.inject({ method: 'GET', url: '/api/v1/allocations?referenceId=ord-owned-1', headers: admin });
    expect(
      owners
        .json()
        .items.map((view: { owner: string }) => view.owner)
        .sort(),
    ).toEqual(['batch-tenant-a', 'batch-tenant-b']);
  });

  it('refuses a malformed envelope as a whole: not a list, empty, 1,001 entries, an unknown field', async () => {
    const oneJob = { idempotencyKey: 'envelope', request: job('bb-1', 'ord-envelope') };
    const bodies: unknown[] = [{ jobs: oneJob }, { jobs: [] }, { jobs: Array.from({ length: 1001 }, () => oneJob) }, { jobs: [oneJob], extra: true }, [oneJob]];
    for (const payload of bodies) {
      const reply = await t.app.inject({ method: 'POST', url: '/api/v1/allocations/batch', headers: service, payload: payload as object });
      expect(reply.statusCode).toBe(400);
      expect(reply.json().error.code).toBe('VALIDATION_FAILED');
    }
    expect(await jobsUnder(t, ['envelope'])).toBe(0);
  });

  it('takes 1,000 entries in one call, and refuses a body over BODY_LIMIT_BYTES with 413 PAYLOAD_TOO_LARGE', async () => {
    const thousand = Array.from({ length: 1000 }, (_, i) => ({ idempotencyKey: `thousand-${i}`, request: job('bb-2', `ord-thousand-${i}`) }));
    const reply = await postBatch(t, thousand);
    expect(reply.statusCode).toBe(200);
    expect(reply.json()).toMatchObject({ accepted: 1000, refused: 0 });

    const wide = { items: Array.from({ length: 200 }, (_, line) => ({ productId: `bb-wide-${line}`, quantity: 1 })), referenceType: 'order' };
    const jobs = Array.from({ length: 200 }, (_, i) => ({ idempotencyKey: `wide-${i}`, request: { ...wide, referenceId: `ord-wide-${i}` } }));
    expect(Buffer.byteLength(JSON.stringify({ jobs }))).toBeGreaterThan(t.config.BODY_LIMIT_BYTES);
    const tooLarge = await postBatch(t, jobs);
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.json().error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await jobsUnder(t, ['wide-0'])).toBe(0);
  });
});

describe('a batch and the backlog bound', () => {
  let t: TestApp;
  beforeAll(async () => {
    // no worker: what is accepted stays in the backlog
    t = await startTestApp('allocation-batch-backlog', { broker: true, env: { ALLOCATION_MAX_BACKLOG: '5', ALLOCATION_BACKLOG_SAMPLE_MS: '10' } });
  });
  afterAll(async () => t.close());

  const entries = (prefix: string, count: number) =>
    Array.from({ length: count }, (_, i) => ({ idempotencyKey: `${prefix}-${i}`, request: job('bl-1', `ord-${prefix}-${i}`) }));

  it('takes a batch whole while its jobs fit under the bound, and refuses one that would pass it whole, with 503 OVERLOADED and Retry-After', async () => {
    expect((await postBatch(t, entries('fits', 3))).json()).toMatchObject({ accepted: 3 });
    const refused = await postBatch(t, entries('over', 3));
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json()).toEqual({
      error: {
        code: 'OVERLOADED',
        message: expect.stringMatching(/try again in \d+ ms$/),
        details: { retryAfterSeconds: 1, retryAfterMs: expect.any(Number), backlog: expect.any(Number), maxBacklog: 5 },
      },
    });
    expect(await jobsUnder(t, ['over-0', 'over-1', 'over-2'])).toBe(0);

    // exactly up to the bound is taken; one more job is not. The gate counts in the background and
    // errs towards refusing while a count races an accept, so a refusal is retried as a caller would.
    const last = await waitFor('the gate to take the last 2 jobs', async () => {
      const reply = await postBatch(t, entries('last', 2));
      return reply.statusCode === 503 ? undefined : reply;
    });
    expect(last.json()).toMatchObject({ accepted: 2 });
    expect((await postBatch(t, entries('one-more', 1))).statusCode).toBe(503);
    expect((await enqueue(t.app, job('bl-1', 'ord-single-over'), 'single-over')).statusCode).toBe(503);
  });

  it('answers a batch of only invalid entries with their errors even at the bound: it asks for nothing', async () => {
    const reply = await postBatch(t, [{ request: { items: [] } }]);
    expect(reply.statusCode).toBe(200);
    expect(reply.json()).toMatchObject({ accepted: 0, refused: 1, results: [{ status: 400 }] });
  });
});

describe('partitions', () => {
  const partitions = 4;
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('allocation-batch-partitions', { broker: true, env: { ALLOCATION_PARTITIONS: String(partitions) } });
  });
  afterAll(async () => t.close());

  it("publishes each job of a batch to its lowest product's partition queue, at its priority", async () => {
    const productSets = [['pa-1'], ['pa-2'], ['pa-3'], ['pa-4'], ['pa-5'], ['pa-6'], ['pa-9', 'pa-3'], ['pa-7', 'pa-8']];
    const priorities = ['low', 'medium', 'high', 'critical'] as const;
    const jobs = productSets.map((products, i) => ({
      idempotencyKey: `part-${i}`,
      request: {
        items: products.map((productId) => ({ productId, quantity: 1 })),
        referenceId: `ord-part-${i}`,
        referenceType: 'order',
        priority: priorities[i % 4],
      },
    }));
    const answer = (await postBatch(t, jobs)).json();
    expect(answer.accepted).toBe(productSets.length);
    const expected = new Map<string, { queue: string; priority: number }>(
      answer.results.map((result: { index: number; body: { allocationId: string } }) => [
        result.body.allocationId,
        {
          queue: allocationPartitions(t.config.ALLOCATION_QUEUE, t.config.JOB_RETRY_DELAYS_MS, partitions)[partitionOf(productSets[result.index]!, partitions)]!
            .work,
          priority: (result.index % 4) + 1,
        },
      ]),
    );
    // the job of pa-9 and pa-3 goes with pa-3
    expect(expected.get(answer.results[6].body.allocationId)!.queue).toBe(expected.get(answer.results[2].body.allocationId)!.queue);
    expect(new Set([...expected.values()].map((where) => where.queue)).size).toBeGreaterThan(1);

    const connection = await amqplib.connect(t.vhost!.url);
    try {
      const channel = await connection.createChannel();
      const found = new Map<string, { queue: string; priority: number }>();
      await waitFor('every message in a partition queue', async () => {
        for (const { work } of allocationPartitions(t.config.ALLOCATION_QUEUE, t.config.JOB_RETRY_DELAYS_MS, partitions)) {
          for (let message = await channel.get(work, { noAck: true }); message; message = await channel.get(work, { noAck: true })) {
            found.set(JSON.parse(message.content.toString()).allocationId, { queue: work, priority: message.properties.priority as number });
          }
        }
        return found.size >= expected.size ? true : undefined;
      });
      expect(found).toEqual(expected);
    } finally {
      await connection.close();
    }
  });
});
