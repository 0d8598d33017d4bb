import type { QueryConfig, QueryResult } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { createPool, type Queryable } from '../../src/db/client';
import pino from 'pino';
import type { Publisher } from '../../src/amqp/publisher';
import { loadConfig } from '../../src/config';
import { markPublished, type NewAllocation } from '../../src/db/allocation-store';
import { createAllocationDispatcher } from '../../src/inventory/jobs/allocation-dispatch';
import { createIntakeRecorder } from '../../src/inventory/jobs/allocation-intake';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('allocation-intake');
});
afterAll(async () => {
  await db.drop();
});

function job(key: string, referenceId = `ord-${key}`): NewAllocation {
  return {
    id: uuidv7(),
    owner: 'intake-test',
    idempotencyKey: key,
    requestHash: `hash-${key}`,
    requestId: null,
    actor: 'intake-test',
    deadlineAt: null,
    request: {
      items: [{ productId: 'p-1', quantity: 1 }],
      mode: 'reserve',
      strategy: 'fifo',
      allowPartial: false,
      allowBackorder: false,
      priority: 'medium',
      referenceId,
      referenceType: 'order',
    },
  };
}

/** The pool, counting the INSERT statements that reach the database. */
function countingInserts(): { db: Queryable; inserts: () => number } {
  let inserts = 0;
  const counted = {
    query: (text: string | QueryConfig, values?: unknown[]): Promise<QueryResult> => {
      if ((typeof text === 'string' ? text : text.text).trimStart().startsWith('insert')) inserts++;
      return db.pool.query(text as string, values);
    },
  } as unknown as Queryable;
  return { db: counted, inserts: () => inserts };
}

async function storedCount(prefix: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(`select count(*)::int as n from allocation_requests where idempotency_key like $1`, [`${prefix}%`]);
  return rows[0]!.n;
}

describe('the intake recorder', () => {
  it('commits jobs that arrive together in shared statements and answers each with its own row', async () => {
    const counted = countingInserts();
    const recorder = createIntakeRecorder(counted.db, { maxInFlight: 1, maxBatch: 500 });
    const jobs = Array.from({ length: 60 }, (_, i) => job(`together-${i}`));
    const recorded = await Promise.all(jobs.map((entry) => recorder.record(entry)));
    expect(recorded.every((answer, i) => answer.created && answer.row.id === jobs[i]!.id && answer.row.status === 'queued')).toBe(true);
    expect(await storedCount('together-')).toBe(60);
    // the first job goes alone; the other 59 wait for it and share the next statement
    expect(counted.inserts()).toBe(2);
  });

  it('gives a key used twice in one batch to the first job, and the same row to the second', async () => {
    const recorder = createIntakeRecorder(db.pool, { maxInFlight: 1, maxBatch: 500 });
    const [warmup, first, second] = [job('twice-warmup'), job('twice'), job('twice')];
    const answers = await Promise.all([recorder.record(warmup), recorder.record(first), recorder.record(second)]);
    expect(answers[1]).toEqual({ row: expect.objectContaining({ id: first.id }), created: true, xid: expect.stringMatching(/^\d+$/) });
    expect(answers[2]).toEqual({ row: expect.objectContaining({ id: first.id, requestHash: 'hash-twice' }), created: false });
    expect(await storedCount('twice')).toBe(2);
  });

  it('fails only the job that breaks a shared statement; the others are committed', async () => {
    const recorder = createIntakeRecorder(db.pool, { maxInFlight: 1, maxBatch: 500 });
    // Postgres refuses a NUL character in jsonb, so the shared INSERT fails as a whole
    const jobs = [job('bad-warmup'), job('bad-1'), job('bad-2', 'ord-\u0000'), job('bad-3')];
    const outcomes = await Promise.allSettled(jobs.map((entry) => recorder.record(entry)));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(await storedCount('bad-')).toBe(3);
  });

  it('inserts through one prepared statement on a generic plan, however many jobs a batch holds', async () => {
    const session = createPool(db.url, 1);
    try {
      const recorder = createIntakeRecorder(session, { maxInFlight: 1, maxBatch: 500 });
      await Promise.all(Array.from({ length: 5 }, (_, i) => recorder.record(job(`prepared-${i}`))));
      const { rows } = await session.query<{ generic: number; custom: number }>(
        `select generic_plans::int as generic, custom_plans::int as custom from pg_prepared_statements where statement like '%insert into allocation_requests%'`,
      );
      expect(rows).toEqual([{ generic: 2, custom: 0 }]);
    } finally {
      await session.end();
    }
  });
});

describe('marking jobs published', () => {
  it('skips a job a worker holds instead of waiting for it, and marks the others', async () => {
    const recorder = createIntakeRecorder(db.pool);
    const [held, free] = [job('mark-held'), job('mark-free')];
    await recorder.record(held);
    await recorder.record(free);
    const worker = await db.pool.connect();
    try {
      await worker.query('begin');
      await worker.query('select id from allocation_requests where id = $1 for update', [held.id]);
      await markPublished(db.pool, [held.id, free.id]);
      await worker.query('commit');
    } finally {
      worker.release();
    }
    const { rows } = await db.pool.query<{ id: string; published: boolean }>(
      `select id, published_at is not null as published from allocation_requests where id = any($1::uuid[])`,
      [[held.id, free.id]],
    );
    expect(Object.fromEntries(rows.map((row) => [row.id, row.published]))).toEqual({ [held.id]: false, [free.id]: true });
  });
});

describe('the dispatcher', () => {
  // a broker that confirms every message at once
  const confirming: Publisher = { publish: async () => {}, isReady: () => true, close: async () => {} };
  const config = loadConfig({});

  async function published(ids: string[]): Promise<boolean[]> {
    const { rows } = await db.pool.query<{ published: boolean }>(
      `select published_at is not null as published from allocation_requests where id = any($1::uuid[]) order by id`,
      [ids],
    );
    return rows.map((row) => row.published);
  }

  it('marks confirmed jobs published a while after the confirm, not at once, so a worker that starts them first leaves nothing to write', async () => {
    const recorder = createIntakeRecorder(db.pool);
    const jobs = [job('late-mark-1'), job('late-mark-2')];
    for (const entry of jobs) await recorder.record(entry);
    const dispatcher = createAllocationDispatcher(db.pool, confirming, config, pino({ level: 'silent' }));
    const ids = jobs.map((entry) => entry.id);
    expect(await dispatcher.dispatch(jobs.map((entry) => ({ id: entry.id, priority: 'medium', productIds: ['p-1'] })))).toEqual(ids);
    expect(await published(ids)).toEqual([false, false]);
    const deadline = Date.now() + 10_000;
    while ((await published(ids)).includes(false) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await published(ids)).toEqual([true, true]);
    await dispatcher.close();
  });

  it('writes every pending mark when it closes', async () => {
    const recorder = createIntakeRecorder(db.pool);
    const entry = job('mark-on-close');
    await recorder.record(entry);
    const dispatcher = createAllocationDispatcher(db.pool, confirming, config, pino({ level: 'silent' }));
    await dispatcher.dispatch([{ id: entry.id, priority: 'medium', productIds: ['p-1'] }]);
    await dispatcher.close();
    expect(await published([entry.id])).toEqual([true]);
  });
});
