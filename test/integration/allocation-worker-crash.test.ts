import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import pino from 'pino';
import { startTestApp, type TestApp } from '../helpers/app';
import { enqueue, waitFor } from '../helpers/allocations';
import { countJobsBeingServed } from '../helpers/drill';
import { serviceEntry } from '../helpers/image';
import { ledgerDifferences, receiveLots, reservationBookDifferences, seedCatalogue, totalsOf } from '../helpers/stock';

let t: TestApp;
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const root = path.resolve(__dirname, '../..');
const JOBS = 300;

beforeAll(async () => {
  t = await startTestApp('alloc-crash', { broker: true });
  await seedCatalogue(t.db.pool, { warehouses: [{ id: 'wh-a' }, { id: 'wh-b' }], products: ['crash-p', 'crash-q'] });
  await receiveLots(t.db.pool, [
    { productId: 'crash-p', warehouseId: 'wh-a', quantity: 150 },
    { productId: 'crash-p', warehouseId: 'wh-b', quantity: 150 },
    { productId: 'crash-q', warehouseId: 'wh-a', quantity: 200 },
  ]);
});
afterAll(async () => t.close());

/** A worker process of its own (the same entry point production runs), on this test's database and vhost. */
function spawnWorker(): ChildProcess {
  const child = spawn(process.execPath, [serviceEntry, '--role', 'worker'], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: t.db.url,
      AMQP_URL: t.vhost!.url,
      MIGRATE_ON_START: 'false',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      NODE_ENV: 'test',
      WORKER_CONCURRENCY: '40',
      WORKER_BATCH_SIZE: '20',
      ALLOCATION_RELAY_AFTER_MS: '500',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return child;
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function count(sql: string): Promise<number> {
  return (await t.db.pool.query(sql)).rows[0].n;
}

describe('a worker killed in the middle of a batch', () => {
  it('loses no job and serves none twice: another worker finishes them and the books reconcile', async () => {
    const priorities = ['low', 'medium', 'high', 'critical'];
    const replies = await Promise.all(
      Array.from({ length: JOBS }, (_, index) =>
        enqueue(t.app, {
          items: [{ productId: index % 3 === 0 ? 'crash-q' : 'crash-p', quantity: (index % 3) + 1 }],
          referenceId: `crash-${index}`,
          referenceType: 'order',
          priority: priorities[index % 4],
          mode: index % 5 === 0 ? 'allocate' : 'reserve',
        }),
      ),
    );
    expect(replies.every((reply) => reply.statusCode === 202)).toBe(true);
    const ids = replies.map((reply) => reply.json().allocationId as string);

    // slow every result write down, so batches are surely in flight when the kill comes
    await t.db.pool.query(`
      create function slow_results() returns trigger language plpgsql as $$ begin perform pg_sleep(0.01); return new; end $$;
      create trigger slow_results before insert on allocation_results for each row execute function slow_results();`);

    const first = spawnWorker();
    const atKill = await waitFor(
      'the first worker to be mid-batch',
      async () => {
        const finished = await count(`select count(*)::int as n from allocation_results`);
        const beingServed = await countJobsBeingServed(t.db.pool);
        return finished > 0 && beingServed > 0 ? { finished, beingServed } : undefined;
      },
      30_000,
    );
    first.kill('SIGKILL');
    await exited(first);
    // one statement, one snapshot: a commit landing between two reads cannot skew them
    const {
      rows: [{ finishedAtKill, queuedAtKill }],
    } = await t.db.pool.query(
      `select (select count(*)::int from allocation_results) as "finishedAtKill",
              (select count(*)::int from allocation_requests where status = 'queued') as "queuedAtKill"`,
    );
    log.info({ atKill, finishedAtKill, queuedAtKill }, 'killed the first worker');
    // the batch it was serving rolled back: its jobs are queued again, with nothing written for them
    expect(finishedAtKill).toBeLessThan(JOBS);
    expect(queuedAtKill).toBe(JOBS - finishedAtKill);

    await t.db.pool.query(`drop trigger slow_results on allocation_results; drop function slow_results();`);
    const second = spawnWorker();
    try {
      await waitFor(
        'every job to finish',
        async () => ((await count(`select count(*)::int as n from allocation_results`)) === JOBS ? true : undefined),
        60_000,
      );
    } finally {
      second.kill('SIGTERM');
      expect(await exited(second)).toBe(0);
    }

    // every accepted job ended exactly once, with a status matching its one result
    const { rows: jobs } = await t.db.pool.query(
      `select a.id, a.status, r.status as "resultStatus", r.result, r.reservation_id as "reservationId"
         from allocation_requests a left join allocation_results r on r.allocation_id = a.id where a.id = any($1::uuid[])`,
      [ids],
    );
    expect(jobs).toHaveLength(JOBS);
    for (const job of jobs) {
      expect(['succeeded', 'partial', 'failed']).toContain(job.status);
      expect(job.resultStatus).toBe(job.status);
    }
    const succeeded = jobs.filter((job) => job.status === 'succeeded');
    expect(new Set(succeeded.map((job) => job.reservationId)).size).toBe(succeeded.length);
    expect(await count(`select count(*)::int as n from reservations`)).toBe(succeeded.length);

    // the stock held is exactly what the results say was taken
    for (const productId of ['crash-p', 'crash-q']) {
      const taken = jobs
        .flatMap((job) => job.result.allocatedItems as { productId: string; quantity: number }[])
        .filter((item) => item.productId === productId)
        .reduce((sum, item) => sum + item.quantity, 0);
      const totals = await totalsOf(t.db.pool, productId);
      expect(totals.reserved + totals.allocated).toBe(taken);
    }
    expect(await count(`select count(*)::int as n from inventory_transactions where type in ('RESERVE', 'ALLOCATE')`)).toBe(
      jobs.reduce((sum, job) => sum + job.result.allocatedItems.length, 0),
    );
    expect(await ledgerDifferences(t.db.pool)).toEqual([]);
    expect(await reservationBookDifferences(t.db.pool)).toEqual([]);
    log.info({ succeeded: succeeded.length, failed: jobs.filter((job) => job.status === 'failed').length }, 'all jobs finished after the restart');
  }, 120_000);
});
