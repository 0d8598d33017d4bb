import amqplib from 'amqplib';
import pino from 'pino';
import { acceptJobs, auditJobs, waitForJobsToEnd } from '../helpers/drill';
import { startStack, type Stack } from '../helpers/stack';
import { receiveLots, seedCatalogue } from '../helpers/stock';

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'info' });
const JOBS = 600;
const QUEUE = 'drill.allocations';
let stack: Stack;

beforeAll(async () => {
  stack = await startStack('queue-deleted-drill', {
    workers: 2,
    env: {
      ALLOCATION_QUEUE: QUEUE,
      WORKER_CONCURRENCY: '40',
      WORKER_BATCH_SIZE: '20',
      JOB_RETRY_DELAYS_MS: '200,400',
      ALLOCATION_RELAY_INTERVAL_MS: '250',
      ALLOCATION_RELAY_AFTER_MS: '1000',
      // a published job neither started nor finished for 3 s has lost its message
      ALLOCATION_REPUBLISH_AFTER_MS: '3000',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    },
  });
  await seedCatalogue(stack.db.pool, { warehouses: [{ id: 'wh-a' }, { id: 'wh-b' }], products: ['del-p', 'del-q'] });
  // scarce stock: a job served twice would show as stock taken twice or an oversold lot
  await receiveLots(stack.db.pool, [
    { productId: 'del-p', warehouseId: 'wh-a', quantity: 300 },
    { productId: 'del-p', warehouseId: 'wh-b', quantity: 200 },
    { productId: 'del-q', warehouseId: 'wh-a', quantity: 400 },
  ]);
}, 90_000);
afterAll(async () => stack.stop());

describe('the work queue deleted in the middle of a burst', () => {
  it('loses no accepted job: each one gets exactly one result and the books reconcile', async () => {
    // slow the workers down so the queue holds jobs when it goes
    await stack.db.pool.query(`
      create function slow_results() returns trigger language plpgsql as $$ begin perform pg_sleep(0.05); return new; end $$;
      create trigger slow_results before insert on allocation_results for each row execute function slow_results();`);
    const body = (index: number) => ({
      items: [{ productId: index % 3 === 0 ? 'del-q' : 'del-p', quantity: 1 + (index % 2) }],
      referenceId: `del-${index}`,
      referenceType: 'order',
      priority: ['low', 'medium', 'high', 'critical'][index % 4],
      mode: index % 4 === 0 ? 'allocate' : 'reserve',
    });
    const first = await acceptJobs(stack.url, JOBS / 2, body);

    // an operator deletes the queue, with what it holds, while jobs keep coming
    const connection = await amqplib.connect(stack.vhost.url);
    const channel = await connection.createChannel();
    const { messageCount: deleted } = await channel.deleteQueue(QUEUE);
    await connection.close();
    const second = await acceptJobs(stack.url, JOBS / 2, (index) => body(JOBS / 2 + index));
    await stack.db.pool.query(`create or replace function slow_results() returns trigger language plpgsql as $$ begin return new; end $$`);

    const ids = [...first, ...second];
    await waitForJobsToEnd(stack.db.pool, ids, 120_000);
    const audit = await auditJobs(stack.db.pool, ids);
    log.info({ deleted, audit: { ...audit, ledger: audit.ledger.length, book: audit.book.length } }, 'queue deleted drill');

    expect(deleted).toBeGreaterThan(0);
    expect(audit).toMatchObject({ lost: 0, doubled: 0, oversold: 0, ledger: [], book: [] });
    expect(audit.byStatus.dead_lettered ?? 0).toBe(0);
    // the broker lost messages it held: the workers declared the queue again, and the relay sent them
    const declared = await amqplib.connect(stack.vhost.url).then(async (check) => {
      const probe = await check.createChannel();
      const queue = await probe.checkQueue(QUEUE);
      await check.close();
      return queue;
    });
    expect(declared.queue).toBe(QUEUE);
  }, 240_000);
});
