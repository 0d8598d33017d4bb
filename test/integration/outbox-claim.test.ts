import type { Transaction } from '../../src/db/client';
import { claimPendingEvents } from '../../src/db/outbox-store';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

/**
 * The relay's claim keeps each aggregate's events in order: an event is claimed only when no earlier
 * unpublished event of its aggregate was passed over — held by another relay, or waiting for a retry.
 */

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('outbox-claim');
});
afterAll(async () => db.drop());

/** Appends events of the given aggregates in order; returns their ids. */
async function append(aggregates: readonly string[]): Promise<string[]> {
  const { rows } = await db.pool.query<{ id: string }>(
    `insert into outbox_events (event_id, event_type, routing_key, aggregate_type, aggregate_id, payload)
     select gen_random_uuid(), 'stock.changed', 'stock.changed', 'lot', a, '{}' from unnest($1::text[]) with ordinality as t(a, n) order by n
     returning id::text`,
    [aggregates],
  );
  return rows.map((row) => row.id);
}

/** Runs `work` inside a transaction of its own, rolled back at the end. */
async function inTransaction<T>(work: (tx: Transaction) => Promise<T>): Promise<{ result: T; end: () => Promise<void> }> {
  const client = await db.pool.connect();
  await client.query('begin');
  const result = await work(client as Transaction);
  return {
    result,
    end: async () => {
      await client.query('rollback');
      client.release();
    },
  };
}

beforeEach(async () => {
  await db.pool.query('delete from outbox_events');
});

it('holds back the later events of an aggregate whose earlier event another relay holds', async () => {
  const [a1, b1, a2, c1, b2] = await append(['a', 'b', 'a', 'c', 'b']);
  const other = await inTransaction((tx) => claimPendingEvents(tx, 2));
  try {
    expect(other.result.map((event) => event.id)).toEqual([a1, b1]);
    const mine = await inTransaction((tx) => claimPendingEvents(tx, 10));
    // a2 and b2 wait for a1 and b1; c1 has nothing before it
    expect(mine.result.map((event) => event.id)).toEqual([c1]);
    await mine.end();
  } finally {
    await other.end();
  }
  const after = await inTransaction((tx) => claimPendingEvents(tx, 10));
  expect(after.result.map((event) => event.id)).toEqual([a1, b1, a2, c1, b2]);
  await after.end();
});

it('holds back the later events of an aggregate whose earlier event waits for a retry', async () => {
  const [a1, b1, , b2, c1] = await append(['a', 'b', 'a', 'b', 'c']);
  await db.pool.query(`update outbox_events set attempts = 1, available_at = now() + interval '1 hour' where id = $1`, [a1]);
  const first = await inTransaction((tx) => claimPendingEvents(tx, 2));
  // the claim's first two due events are b1 and a2; a2 waits for a1
  expect(first.result.map((event) => event.id)).toEqual([b1]);
  await first.end();
  const all = await inTransaction((tx) => claimPendingEvents(tx, 10));
  expect(all.result.map((event) => event.id)).toEqual([b1, b2, c1]);
  await all.end();
});
