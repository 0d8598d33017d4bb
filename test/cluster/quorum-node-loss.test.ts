import pino from 'pino';
import { queryRows } from '../../src/db/client';
import { waitFor } from '../helpers/allocations';
import { acceptJobs, auditJobs, waitForJobsToEnd } from '../helpers/drill';
import { startRabbitCluster, type RabbitCluster, type RabbitNode } from '../helpers/rabbit-cluster';
import { startStack, type Stack } from '../helpers/stack';
import { receiveLots, seedCatalogue } from '../helpers/stock';

// The api and two workers in quorum mode against a three-node RabbitMQ cluster; the node leading
// the work queues is killed (SIGKILL) in the middle of a burst.

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'info' });
const JOBS = 600;
const QUEUE = 'drill.allocations';
let cluster: RabbitCluster;
let stack: Stack;

beforeAll(async () => {
  cluster = await startRabbitCluster('quorum');
  stack = await startStack('quorum-node-loss', {
    workers: 2,
    env: {
      AMQP_URL: cluster.urls.join(','),
      AMQP_CLUSTER: 'quorum',
      AMQP_HEARTBEAT_SECONDS: '2',
      RECONNECT_MAX_DELAY_MS: '1000',
      ALLOCATION_QUEUE: QUEUE,
      ALLOCATION_PARTITIONS: '2',
      WORKER_BATCH_SIZE: '20',
      JOB_RETRY_DELAYS_MS: '200,400',
      ALLOCATION_RELAY_INTERVAL_MS: '250',
      ALLOCATION_RELAY_AFTER_MS: '1000',
      ALLOCATION_REPUBLISH_AFTER_MS: '5000',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    },
  });
  await seedCatalogue(stack.db.pool, { warehouses: [{ id: 'wh-a' }, { id: 'wh-b' }], products: ['node-p', 'node-q', 'node-r'] });
  // scarce stock: a job served twice would show as stock taken twice or an oversold lot
  await receiveLots(stack.db.pool, [
    { productId: 'node-p', warehouseId: 'wh-a', quantity: 300 },
    { productId: 'node-p', warehouseId: 'wh-b', quantity: 150 },
    { productId: 'node-q', warehouseId: 'wh-a', quantity: 250 },
    { productId: 'node-r', warehouseId: 'wh-b', quantity: 200 },
  ]);
}, 240_000);
afterAll(async () => {
  try {
    await stack.stop();
  } finally {
    // every node this file started, whatever became of the stack
    await cluster.stop();
  }
});

/** Accepts jobs as a caller would while the broker fails over: a 503 is tried again. */
async function acceptThroughFailover(count: number, body: (index: number) => Record<string, unknown>): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < count; index++) {
    ids.push(
      await waitFor(
        `job ${index} to be accepted`,
        async () => {
          const [id] = await acceptJobs(stack.url, 1, () => body(index), 1).catch((error: unknown) => {
            if (error instanceof Error && /answered 503/.test(error.message)) return [undefined];
            throw error;
          });
          return id;
        },
        60_000,
      ),
    );
  }
  return ids;
}

/** The node leading most of the work queues (quorum queues elect one leader each). */
async function workQueueLeader(): Promise<RabbitNode> {
  const leaders = [...(await cluster.leaders('/')).entries()].filter(([queue]) => /\.quorum\.p\d+\./.test(queue)).map(([, leader]) => leader);
  expect(leaders).toHaveLength(8);
  const counts = new Map<string, number>();
  for (const leader of leaders) counts.set(leader, (counts.get(leader) ?? 0) + 1);
  const [name] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]!;
  return cluster.nodes.find((node) => node.name === name)!;
}

describe('the node leading the quorum work queues killed in the middle of a burst', () => {
  it('loses and doubles no accepted job: each one gets exactly one result, nothing is oversold and the books reconcile', async () => {
    await stack.db.pool.query(`
      create function slow_results() returns trigger language plpgsql as $$ begin perform pg_sleep(0.1); return new; end $$;
      create trigger slow_results before insert on allocation_results for each row execute function slow_results();`);
    const body = (index: number) => ({
      items: [{ productId: ['node-p', 'node-q', 'node-r'][index % 3], quantity: 1 + (index % 2) }],
      referenceId: `node-${index}`,
      referenceType: 'order',
      priority: ['low', 'medium', 'high', 'critical'][index % 4],
      mode: index % 4 === 0 ? 'allocate' : 'reserve',
    });
    const first = await acceptJobs(stack.url, JOBS / 2, body);

    const leader = await workQueueLeader();
    const [{ done }] = (await queryRows<{ done: number }>(
      stack.db.pool,
      `select count(*)::int as done from allocation_requests where id = any($1::uuid[]) and status <> 'queued' and status <> 'processing'`,
      [first],
    )) as [{ done: number }];
    await cluster.kill(leader);
    const killedAt = Date.now();
    const second = await acceptThroughFailover(JOBS / 2, (index) => body(JOBS / 2 + index));
    await stack.db.pool.query(`create or replace function slow_results() returns trigger language plpgsql as $$ begin return new; end $$`);

    const ids = [...first, ...second];
    await waitForJobsToEnd(stack.db.pool, ids, 150_000);
    const servedAfterMs = Date.now() - killedAt;
    const newLeader = await workQueueLeader();
    const audit = await auditJobs(stack.db.pool, ids);
    log.info(
      {
        killed: leader.name,
        newLeader: newLeader.name,
        endedBeforeKill: done,
        allEndedMsAfterKill: servedAfterMs,
        audit: { ...audit, ledger: audit.ledger.length, book: audit.book.length },
      },
      'quorum node-loss drill',
    );
    expect(newLeader.name).not.toBe(leader.name);
    // the kill came while the first burst was still being served
    expect(done).toBeLessThan(first.length);
    expect(audit).toMatchObject({ accepted: JOBS, lost: 0, doubled: 0, oversold: 0, ledger: [], book: [] });
    expect(Object.keys(audit.byStatus).every((status) => ['succeeded', 'partial', 'failed'].includes(status))).toBe(true);
  }, 300_000);
});
