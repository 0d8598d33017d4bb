import pino from 'pino';
import { queryRows } from '../../src/db/client';
import { waitFor } from '../helpers/allocations';
import { acceptJobs, auditJobs, brokerConnections, signalGroup, waitForJobsToEnd } from '../helpers/drill';
import { startStack, type Stack } from '../helpers/stack';
import { receiveLots, seedCatalogue } from '../helpers/stock';

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'info' });
const JOBS = 600;
const PRODUCTS = ['freeze-a', 'freeze-b', 'freeze-c', 'freeze-d'];
let stack: Stack;

beforeAll(async () => {
  stack = await startStack('freeze-drill', {
    workers: 2,
    env: {
      // two batches of 20 per worker: one running, one prefetched behind it
      WORKER_CONCURRENCY: '40',
      WORKER_BATCH_SIZE: '20',
      // the default: freezing a worker and asking the broker what it holds must fit in the heartbeat on a busy machine
      AMQP_HEARTBEAT_SECONDS: '5',
      WORKER_LOCK_TIMEOUT_MS: '1000',
      WORKER_IDLE_IN_TRANSACTION_TIMEOUT_MS: '3000',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    },
  });
  await seedCatalogue(stack.db.pool, { warehouses: [{ id: 'wh-a' }], products: PRODUCTS });
  await receiveLots(
    stack.db.pool,
    PRODUCTS.map((productId) => ({ productId, warehouseId: 'wh-a', quantity: 1000 })),
  );
}, 90_000);
afterAll(async () => stack.stop());

/**
 * The worker processes with a session inside an allocation batch's transaction, holding lot locks
 * (a batch locks its jobs and its lots; the expiry sweeper of the same process locks lots only), by pid.
 */
async function lockHolders(): Promise<Set<number>> {
  const rows = await queryRows<{ name: string }>(
    stack.db.pool,
    `select distinct a.application_name as name from pg_stat_activity a
      where a.application_name like 'stockroom-worker-%'
        and exists (select 1 from pg_locks l where l.pid = a.pid and l.granted and l.mode = 'RowShareLock' and l.relation = 'inventory_items'::regclass)
        and exists (select 1 from pg_locks l where l.pid = a.pid and l.granted and l.mode = 'RowShareLock' and l.relation = 'allocation_requests'::regclass)`,
  );
  return new Set(rows.map((row) => Number(row.name.slice('stockroom-worker-'.length))));
}

const count = async (sql: string): Promise<number> => (await queryRows<{ n: number }>(stack.db.pool, sql))[0]!.n;

describe('a worker frozen (SIGSTOP) while its batch holds lot locks', () => {
  it('stalls nothing: the other worker serves every job, the frozen one’s prefetch included, and the frozen one does no harm when it wakes', async () => {
    // results are written slowly, so batches hold their locks long enough to be caught holding them
    await stack.db.pool.query(`
      create function slow_results() returns trigger language plpgsql as $$ begin perform pg_sleep(0.05); return new; end $$;
      create trigger slow_results before insert on allocation_results for each row execute function slow_results();`);
    const priorities = ['low', 'medium', 'high', 'critical'];
    const ids = await acceptJobs(stack.url, JOBS, (index) => ({
      items: [{ productId: PRODUCTS[index % PRODUCTS.length], quantity: 1 + (index % 2) }],
      referenceId: `freeze-${index}`,
      referenceType: 'order',
      priority: priorities[index % 4],
      mode: index % 3 === 0 ? 'allocate' : 'reserve',
    }));

    const workers = stack.processes.filter((entry) => entry.role === 'worker').map((entry) => entry.child);
    // freeze a worker at a moment its transaction holds lot locks and it holds unacknowledged jobs (checked once it is stopped)
    let prefetched = 0;
    const frozen = await waitFor(
      'a worker frozen while holding lot locks and jobs',
      async () => {
        const holders = await lockHolders();
        const victim = workers.find((child) => holders.has(child.pid!));
        if (!victim) return undefined;
        signalGroup(victim, 'SIGSTOP');
        if ((await lockHolders()).has(victim.pid!)) {
          prefetched = (await brokerConnections(stack.vhost.name)).get(`stockroom-worker-${victim.pid}`) ?? 0;
          if (prefetched > 0) return victim;
        }
        signalGroup(victim, 'SIGCONT');
        return undefined;
      },
      60_000,
    );
    const frozenAt = Date.now();
    const live = workers.find((child) => child !== frozen)!;
    const frozenName = `stockroom-worker-${frozen.pid}`;
    const finishedAtFreeze = await count(`select count(*)::int as n from allocation_results`);
    // from now on results are written at full speed (replacing the function takes no lock on the table)
    await stack.db.pool.query(`create or replace function slow_results() returns trigger language plpgsql as $$ begin return new; end $$`);

    // the broker gives the frozen worker's unacknowledged jobs to the live one once heartbeats stop
    await waitFor(
      'the broker to close the frozen worker’s connection',
      async () => ((await brokerConnections(stack.vhost.name)).has(frozenName) ? undefined : true),
      60_000,
    );
    const connectionGoneMs = Date.now() - frozenAt;
    // Postgres ends the frozen transaction (idle_in_transaction_session_timeout), releasing its locks
    await waitFor('the frozen worker’s locks to be released', async () => ((await lockHolders()).has(frozen.pid!) ? undefined : true), 60_000);
    const locksReleasedMs = Date.now() - frozenAt;
    await waitForJobsToEnd(stack.db.pool, ids, 120_000);
    const allDoneMs = Date.now() - frozenAt;
    // every job ended while the frozen worker was still stopped: the live one served them all
    expect(frozen.signalCode).toBeNull();
    expect(frozen.exitCode).toBeNull();
    expect(live.exitCode).toBeNull();

    // wake it: its transaction and its deliveries are gone; it reconnects and changes nothing
    signalGroup(frozen, 'SIGCONT');
    await waitFor('the woken worker to reconnect', async () => ((await brokerConnections(stack.vhost.name)).has(frozenName) ? true : undefined), 60_000);
    const resultsBeforeWake = await count(`select count(*)::int as n from allocation_results`);
    // the relay and sweeper of the woken worker run a round; still nothing changes
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await count(`select count(*)::int as n from allocation_results`)).toBe(resultsBeforeWake);
    expect(frozen.exitCode).toBeNull();

    const audit = await auditJobs(stack.db.pool, ids);
    log.info(
      { prefetched, finishedAtFreeze, connectionGoneMs, locksReleasedMs, allDoneMs, audit: { ...audit, ledger: audit.ledger.length, book: audit.book.length } },
      'worker freeze drill',
    );
    expect(prefetched).toBeGreaterThan(0);
    expect(finishedAtFreeze).toBeLessThan(JOBS);
    expect(audit).toMatchObject({ lost: 0, doubled: 0, oversold: 0, ledger: [], book: [] });
    // plenty of stock: no job failed for the freeze (a lock wait that timed out was retried, not failed)
    expect(audit.byStatus).toEqual({ succeeded: JOBS });
  }, 300_000);
});
