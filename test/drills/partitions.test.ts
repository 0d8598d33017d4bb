import type { ChildProcess } from 'node:child_process';
import pino from 'pino';
import { queryRows } from '../../src/db/client';
import { partitionOf } from '../../src/domain/partition';
import { priorities } from '../../src/domain/priority';
import { waitFor } from '../helpers/allocations';
import { acceptJobs, auditJobs, waitForJobsToEnd } from '../helpers/drill';
import { startStack, type Stack } from '../helpers/stack';
import { receiveLots, seedCatalogue } from '../helpers/stock';

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'info' });
const PARTITIONS = 4;
const PRODUCTS = Array.from({ length: 12 }, (_, index) => `part-${index}`);
let stack: Stack;

beforeAll(async () => {
  // no worker yet: the first burst waits in the partition queues
  stack = await startStack('partitions', {
    workers: 0,
    env: {
      ALLOCATION_PARTITIONS: String(PARTITIONS),
      WORKER_BATCH_SIZE: '10',
      // the workers log each job they settle: the test reads who served what
      LOG_LEVEL: 'info',
    },
  });
  await seedCatalogue(stack.db.pool, { warehouses: [{ id: 'wh-a' }], products: PRODUCTS });
  await receiveLots(
    stack.db.pool,
    PRODUCTS.map((productId) => ({ productId, warehouseId: 'wh-a', quantity: 10_000 })),
  );
}, 90_000);
afterAll(async () => stack.stop());

const job = (label: string) => (index: number) => ({
  items: [{ productId: PRODUCTS[index % PRODUCTS.length], quantity: 1 }],
  referenceId: `${label}-${index}`,
  referenceType: 'order',
  priority: priorities[Math.floor(index / PRODUCTS.length) % priorities.length],
  mode: 'reserve',
});

/** How many jobs each worker process settled, by pid, from its log lines. */
function settledByWorker(ids: readonly string[]): { byWorker: Map<number, number>; settledTwice: number } {
  const wanted = new Set(ids);
  const byWorker = new Map<number, number>();
  const seen = new Set<string>();
  let settledTwice = 0;
  for (const line of stack.logs().split('\n')) {
    const match = /^\[worker (\d+)\] (\{.*\})$/.exec(line);
    if (!match) continue;
    const entry = JSON.parse(match[2]!) as { msg?: string; allocationId?: string; outcome?: string };
    if (entry.msg !== 'allocation job settled' || entry.outcome !== 'finished' || !wanted.has(entry.allocationId!)) continue;
    if (seen.has(entry.allocationId!)) settledTwice++;
    seen.add(entry.allocationId!);
    byWorker.set(Number(match[1]), (byWorker.get(Number(match[1])) ?? 0) + 1);
  }
  return { byWorker, settledTwice };
}

describe(`jobs partitioned by product over ${PARTITIONS} queues`, () => {
  it('are served in priority order within each partition', async () => {
    const ids = await acceptJobs(stack.url, 240, job('order'));
    stack.addWorker();
    await waitForJobsToEnd(stack.db.pool, ids, 120_000);
    const jobs = await queryRows<{ priority: string; productId: string; startedAt: Date }>(
      stack.db.pool,
      `select priority, request -> 'items' -> 0 ->> 'productId' as "productId", started_at as "startedAt" from allocation_requests where id = any($1::uuid[])`,
      [ids],
    );
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const mine = jobs.filter((entry) => partitionOf([entry.productId], PARTITIONS) === partition);
      // every job of a higher priority started no later than any job of a lower one
      for (let level = 1; level < priorities.length; level++) {
        const higher = mine.filter((entry) => priorities.indexOf(entry.priority as (typeof priorities)[number]) >= level);
        const lower = mine.filter((entry) => priorities.indexOf(entry.priority as (typeof priorities)[number]) < level);
        if (higher.length === 0 || lower.length === 0) continue;
        expect(Math.max(...higher.map((entry) => entry.startedAt.getTime()))).toBeLessThanOrEqual(Math.min(...lower.map((entry) => entry.startedAt.getTime())));
      }
    }
    const audit = await auditJobs(stack.db.pool, ids);
    expect(audit).toMatchObject({ lost: 0, doubled: 0, oversold: 0, ledger: [], book: [] });
  }, 180_000);

  it('rebalance when a second worker joins mid-burst: both serve, no job is lost or served twice', async () => {
    // slow batches, so the burst outlasts the second worker's start
    await stack.db.pool.query(`
      create function slow_results() returns trigger language plpgsql as $$ begin perform pg_sleep(0.1); return new; end $$;
      create trigger slow_results before insert on allocation_results for each row execute function slow_results();`);
    const ids = await acceptJobs(stack.url, 600, job('burst'));
    const [first] = stack.processes.filter((entry) => entry.role === 'worker').map((entry) => entry.child) as [ChildProcess];
    await waitFor(
      'the first worker to be under way',
      async () => {
        const [row] = await queryRows<{ n: number }>(
          stack.db.pool,
          `select count(*)::int as n from allocation_results r where r.allocation_id = any($1::uuid[])`,
          [ids],
        );
        return row!.n >= 50 ? true : undefined;
      },
      60_000,
    );
    const second = stack.addWorker();
    await waitForJobsToEnd(stack.db.pool, ids, 180_000);

    const { byWorker, settledTwice } = settledByWorker(ids);
    const audit = await auditJobs(stack.db.pool, ids);
    log.info(
      { byWorker: Object.fromEntries(byWorker), settledTwice, audit: { ...audit, ledger: audit.ledger.length, book: audit.book.length } },
      'partition rebalance',
    );
    expect(audit).toMatchObject({ lost: 0, doubled: 0, oversold: 0, ledger: [], book: [] });
    expect(audit.byStatus).toEqual({ succeeded: ids.length });
    expect(settledTwice).toBe(0);
    expect(byWorker.get(first.pid!)).toBeGreaterThan(0);
    expect(byWorker.get(second.pid!)).toBeGreaterThan(0);
    expect(stack.logs()).toContain('gave a partition up to another worker');
  }, 300_000);
});
