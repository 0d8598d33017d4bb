import pino from 'pino';
import { queryRows } from '../../src/db/client';
import { acceptJobs, auditJobs, waitForJobsToEnd } from '../helpers/drill';
import { startStack, type Stack } from '../helpers/stack';
import { receiveLots, seedCatalogue } from '../helpers/stock';

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'info' });
const HOLDS = 100;
let stack: Stack;

beforeAll(async () => {
  stack = await startStack('expiry-drill', {
    workers: 2,
    // the sweeper runs once at start, then not for an hour: as good as down for this drill
    env: { EXPIRY_SWEEP_INTERVAL_MS: '3600000', WORKER_CONCURRENCY: '40', WORKER_BATCH_SIZE: '20', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn' },
  });
  await seedCatalogue(stack.db.pool, { warehouses: [{ id: 'wh-a' }, { id: 'wh-b' }], products: ['exp-p'] });
  await receiveLots(stack.db.pool, [
    { productId: 'exp-p', warehouseId: 'wh-a', quantity: 120 },
    { productId: 'exp-p', warehouseId: 'wh-b', quantity: 80 },
  ]);
}, 90_000);
afterAll(async () => stack.stop());

describe('holds that ended while the expiry sweeper is down', () => {
  it('free their stock for the next jobs at once: every job served, nothing lost, doubled or oversold', async () => {
    const holds = await acceptJobs(stack.url, HOLDS, (index) => ({
      items: [{ productId: 'exp-p', quantity: 2 }],
      referenceId: `hold-${index}`,
      referenceType: 'order',
      mode: 'reserve',
      reservationMinutes: 1,
    }));
    await waitForJobsToEnd(stack.db.pool, holds, 60_000);
    // every unit is held; then the holds end, and no sweep comes
    const [{ held }] = (await queryRows<{ held: number }>(stack.db.pool, `select sum(reserved_quantity)::int as held from inventory_items`)) as [
      { held: number },
    ];
    expect(held).toBe(200);
    await stack.db.pool.query(`update reservations set expires_at = now() - interval '1 second' where status = 'RESERVED'`);

    const allocations = await acceptJobs(stack.url, HOLDS, (index) => ({
      items: [{ productId: 'exp-p', quantity: 2 }],
      referenceId: `after-${index}`,
      referenceType: 'order',
      priority: index % 2 === 0 ? 'high' : 'low',
      mode: 'allocate',
    }));
    await waitForJobsToEnd(stack.db.pool, allocations, 60_000);

    const reservations = await queryRows<{ status: string; n: number }>(
      stack.db.pool,
      `select status, count(*)::int as n from reservations group by status order by status`,
    );
    const audit = await auditJobs(stack.db.pool, [...holds, ...allocations]);
    log.info({ reservations, audit: { ...audit, ledger: audit.ledger.length, book: audit.book.length } }, 'expiry with the sweeper down drill');
    expect(audit).toMatchObject({ lost: 0, doubled: 0, oversold: 0, ledger: [], book: [] });
    // the engine expired each overdue hold it met, in the transaction that then took its stock
    expect(audit.byStatus).toEqual({ succeeded: HOLDS * 2 });
    expect(reservations).toEqual([
      { status: 'ALLOCATED', n: HOLDS },
      { status: 'EXPIRED', n: HOLDS },
    ]);
  }, 240_000);
});
