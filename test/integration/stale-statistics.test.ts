import type { PoolClient } from 'pg';
import type { Transaction } from '../../src/db/client';
import { claimPendingEvents } from '../../src/db/outbox-store';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

/**
 * Plans that statistics cannot break: every foreign key has the index its checks need, a
 * session whose foreign-key checks were first planned on empty tables (statistics taken before
 * any load, autovacuum off) still checks them through the index once the tables have grown, and
 * the outbox relay's claim reads the pending events in id order through their index, and those it
 * passed over once by id range.
 */

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('stale-statistics');
});
afterAll(async () => db.drop());

it('every foreign key has an index led by its columns', async () => {
  const { rows } = await db.pool.query<{ constraint: string }>(`
    select c.conrelid::regclass || '.' || c.conname as constraint
      from pg_constraint c
     where c.contype = 'f' and c.connamespace = 'public'::regnamespace
       and not exists (
             select 1 from pg_index i
              where i.indrelid = c.conrelid and i.indpred is null
                and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
                and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey)
     order by 1`);
  expect(rows.map((row) => row.constraint)).toEqual([]);
});

/** The plans auto_explain reports for the statements run through `client`, nested ones (foreign-key checks) included. */
async function explainedPlans(client: PoolClient, run: () => Promise<void>): Promise<string[]> {
  const plans: string[] = [];
  const listen = (notice: { message?: string }) => {
    if (notice.message?.includes('Query Text:')) plans.push(notice.message);
  };
  await client.query(`load 'auto_explain'`);
  await client.query(`set auto_explain.log_min_duration = 0; set auto_explain.log_nested_statements = on; set client_min_messages = log`);
  client.on('notice', listen);
  try {
    await run();
  } finally {
    client.off('notice', listen);
    await client.query(`reset client_min_messages; reset auto_explain.log_min_duration`);
  }
  return plans;
}

it('a session that first checked foreign keys on empty tables checks them through their index once the tables have grown', async () => {
  await db.pool.query('analyze');
  const client = await db.pool.connect();
  try {
    const insertReservations = (count: number) =>
      client.query(
        `insert into reservations (id, owner, order_id, status, expires_at) select gen_random_uuid(), 'test', 'order-1', 'RESERVED', now() from generate_series(1, $1)`,
        [count],
      );
    const insertHistory = (count: number) =>
      client.query(
        `insert into reservation_status_history (reservation_id, to_status, actor)
         select id, 'RESERVED', 'test' from reservations order by id limit $1`,
        [count],
      );
    // more checks than the plan cache needs before it keeps a generic plan
    await insertReservations(10);
    await insertHistory(10);
    await insertReservations(5000);

    const plans = await explainedPlans(client, () => insertHistory(20).then(() => undefined));
    const checks = plans.filter((plan) => plan.includes('FROM ONLY "public"."reservations" x'));
    expect(checks).toHaveLength(20);
    expect(checks.filter((plan) => plan.includes('Seq Scan'))).toEqual([]);
    expect(checks.every((plan) => plan.includes('reservations_pkey'))).toBe(true);
  } finally {
    client.release();
  }
});

it('the relay claims through the pending index in id order, after statistics taken while no event was pending and with published events not yet vacuumed', async () => {
  await db.pool.query(`alter table outbox_events set (autovacuum_enabled = off)`);
  // statistics taken once the seeding's events were all published: they say no event is pending
  await db.pool.query(
    `insert into outbox_events (event_id, event_type, routing_key, aggregate_type, aggregate_id, payload, published_at)
     select gen_random_uuid(), 'stock.adjusted', 'stock.adjusted', 'lot', 'seed-' || n, '{}', now() from generate_series(1, 5000) n`,
  );
  await db.pool.query('analyze outbox_events');
  await db.pool.query(
    `insert into outbox_events (event_id, event_type, routing_key, aggregate_type, aggregate_id, payload)
     select gen_random_uuid(), 'stock.changed', 'stock.changed', 'lot', 'lot-' || (n % 3000), '{}' from generate_series(1, 25000) n`,
  );
  // as the relay leaves them: each published row's unpublished version is still in the pending index
  await db.pool.query(`update outbox_events set published_at = now() where id <= (select min(id) + 19999 from outbox_events)`);

  const client = await db.pool.connect();
  try {
    await client.query(`load 'auto_explain'`);
    await client.query(`set auto_explain.log_analyze = on; set auto_explain.log_buffers = on`);
    let claimed: string[] = [];
    // the plan of a statement with parameters is reported when its portal closes: inside the run
    const plans = await explainedPlans(client, async () => {
      await client.query('begin');
      claimed = (await claimPendingEvents(client as Transaction, 500)).map((event) => event.id);
      await client.query('rollback');
    });
    await client.query(`reset auto_explain.log_analyze; reset auto_explain.log_buffers`);

    const { rows } = await db.pool.query<{ id: string }>(`select id::text from outbox_events where published_at is null order by id limit 500`);
    expect(claimed).toEqual(rows.map((row) => row.id));
    const claims = plans.filter((plan) => plan.includes('skip locked'));
    expect(claims).toHaveLength(1);
    expect(claims[0]).toContain('Index Scan using outbox_events_pending_idx on outbox_events');
    expect(claims[0]).not.toContain('Bitmap');
    // the events it passed over are read once, by id range, never looked up per claimed event: a
    // lookup these statistics priced as one row read every pending event for every claimed one
    expect(claims[0]).toMatch(/Index Scan using outbox_events_pending_idx on outbox_events[^\n]*\n\s*Index Cond: \(id < \$\d+\)/);
    const buffers = Number(/Buffers: shared hit=(\d+)/.exec(claims[0]!)?.[1]);
    expect(buffers).toBeLessThan(10_000);
  } finally {
    client.release();
  }
});

it('a session never compiles a statement, however high its plan is priced', async () => {
  // a whole-table read is priced at 1e10 under enable_seqscan=off: far past every jit threshold
  const { rows } = await db.pool.query<{ 'QUERY PLAN': string }>(
    `explain (analyze, format text) select count(*) from generate_series(1, 10) g join pg_description d on d.description = g::text`,
  );
  const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
  expect(plan).toContain('Seq Scan on pg_description');
  expect(plan).not.toContain('JIT');
});
