import amqplib from 'amqplib';
import { v7 as uuidv7 } from 'uuid';
import type { Queryable } from '../../src/db/client';
import { searchAllocations } from '../../src/db/allocation-store';
import { listDeadLetters } from '../../src/db/dead-letter-store';
import { startTestApp, type TestApp } from '../helpers/app';
import { admin, service } from '../helpers/allocations';

// The calls the console makes, open to any client: job search, dead-letter filters and bulk
// replay/purge. Reservation search is tested in lookups.test.ts, the live stream in stream.test.ts.

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('console-api', { broker: true });
});
afterAll(async () => t.close());

const get = async (url: string, headers: Record<string, string> = admin) => t.app.inject({ method: 'GET', url, headers });
const post = async (url: string, payload: unknown, headers: Record<string, string> = admin) =>
  t.app.inject({ method: 'POST', url, headers, payload: payload as object });

type JobSeed = { referenceId: string; status: string; priority: string; createdAt: string };

/** Inserts jobs as the intake records them, with chosen statuses and acceptance times; returns their ids in order. */
async function seedJobs(jobs: readonly JobSeed[]): Promise<string[]> {
  const ids = jobs.map(() => uuidv7());
  await t.db.pool.query(
    `insert into allocation_requests (id, owner, idempotency_key, request_hash, status, priority, mode, reference_id, reference_type, request, actor, created_at, updated_at)
     select id, 'checkout', id::text, 'h', status, priority, 'reserve', reference_id, 'order', request, 'checkout', created_at, created_at
       from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::jsonb[]) as j(id, status, priority, reference_id, created_at, request)`,
    [
      ids,
      jobs.map((job) => job.status),
      jobs.map((job) => job.priority),
      jobs.map((job) => job.referenceId),
      jobs.map((job) => job.createdAt),
      jobs.map((job) =>
        JSON.stringify({
          items: [{ productId: 'p-1', quantity: 1 }],
          mode: 'reserve',
          strategy: 'fifo',
          allowPartial: false,
          allowBackorder: false,
          priority: job.priority,
          referenceId: job.referenceId,
          referenceType: 'order',
        }),
      ),
    ],
  );
  return ids;
}

type LetterSeed = { reason: string; queue: string; createdAt: string };

async function seedLetters(letters: readonly LetterSeed[]): Promise<string[]> {
  const ids = letters.map(() => uuidv7());
  await t.db.pool.query(
    `insert into dead_letters (id, queue, reason, attempts, first_error, last_error, payload, created_at)
     select id, queue, reason, 1, 'first', 'last', '{"raw":"{not json"}'::jsonb, created_at
       from unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[]) as l(id, queue, reason, created_at)`,
    [ids, letters.map((letter) => letter.queue), letters.map((letter) => letter.reason), letters.map((letter) => letter.createdAt)],
  );
  return ids;
}

describe('GET /allocations (job search)', () => {
  let ids: string[];
  beforeAll(async () => {
    ids = await seedJobs([
      { referenceId: 'search-a', status: 'succeeded', priority: 'high', createdAt: '2031-01-01T10:00:00Z' },
      { referenceId: 'search-a', status: 'failed', priority: 'low', createdAt: '2031-01-01T11:00:00Z' },
      { referenceId: 'search-b', status: 'dead_lettered', priority: 'high', createdAt: '2031-01-01T12:00:00Z' },
      { referenceId: 'search-b', status: 'queued', priority: 'critical', createdAt: '2031-01-01T13:00:00Z' },
      { referenceId: 'search-c', status: 'succeeded', priority: 'medium', createdAt: '2031-01-01T14:00:00Z' },
    ]);
  });
  const found = async (query: string) => {
    const response = await get(`/api/v1/allocations?${query}`);
    expect(response.statusCode).toBe(200);
    return (response.json().items as { allocationId: string }[]).map((item) => item.allocationId);
  };

  it('filters by id, reference, status, priority and acceptance time, newest first, all filters applying', async () => {
    expect(await found(`id=${ids[2]}`)).toEqual([ids[2]]);
    expect(await found('referenceId=search-a')).toEqual([ids[1], ids[0]]);
    expect(await found('from=2031-01-01T00:00:00Z&status=succeeded,failed')).toEqual([ids[4], ids[1], ids[0]]);
    expect(await found('from=2031-01-01T00:00:00Z&priority=high')).toEqual([ids[2], ids[0]]);
    expect(await found('from=2031-01-01T11:00:00Z&to=2031-01-01T13:00:00Z')).toEqual([ids[2], ids[1]]);
    expect(await found('referenceId=search-b&priority=high&status=dead_lettered')).toEqual([ids[2]]);
    expect(await found('referenceId=search-b&status=succeeded')).toEqual([]);
  });

  it('answers a job with its request, request id and attempts', async () => {
    const job = (await get(`/api/v1/allocations?id=${ids[0]}`)).json().items[0];
    expect(job).toMatchObject({
      allocationId: ids[0],
      referenceId: 'search-a',
      requestId: null,
      attempts: 0,
      request: { items: [{ productId: 'p-1', quantity: 1 }] },
    });
  });

  it('pages with a cursor: every job once, in order, and null after the last page', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { items: { allocationId: string }[]; nextCursor: string | null } = (
        await get(`/api/v1/allocations?from=2031-01-01T00:00:00Z&limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      ).json();
      seen.push(...page.items.map((item) => item.allocationId));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
  });

  it('refuses unknown parameters, unknown statuses and a range that ends before it starts', async () => {
    for (const query of ['reason=x', 'status=lost', 'priority=urgent', 'from=2031-01-02T00:00:00Z&to=2031-01-01T00:00:00Z', 'cursor=not-a-uuid']) {
      const response = await get(`/api/v1/allocations?${query}`);
      expect({ query, status: response.statusCode, code: response.json().error.code }).toEqual({ query, status: 400, code: 'VALIDATION_FAILED' });
    }
  });

  it('keeps the request id of the call that accepted a job', async () => {
    const accepted = await post(
      '/api/v1/allocations',
      { items: [{ productId: 'p-1', quantity: 1 }], referenceId: 'with-request-id', referenceType: 'order' },
      { ...service, 'x-request-id': 'req-console-1' },
    );
    expect(accepted.statusCode).toBe(202);
    expect((await get(`/api/v1/allocations/${accepted.json().allocationId}`)).json().requestId).toBe(accepted.headers['x-request-id']);
  });
});

describe('dead letters: filters and bulk replay and purge', () => {
  let letters: string[];
  beforeAll(async () => {
    letters = await seedLetters([
      { reason: 'unparseable', queue: 'stockroom.allocations', createdAt: '2031-02-01T10:00:00Z' },
      { reason: 'unparseable', queue: 'stockroom.orders', createdAt: '2031-02-01T11:00:00Z' },
      { reason: 'retries_exhausted', queue: 'stockroom.allocations', createdAt: '2031-02-01T12:00:00Z' },
      { reason: 'unparseable', queue: 'stockroom.allocations', createdAt: '2031-02-01T13:00:00Z' },
    ]);
  });
  const listed = async (query: string) => {
    const response = await get(`/api/v1/admin/dead-letters?${query}`);
    expect(response.statusCode).toBe(200);
    return (response.json().items as { id: string }[]).map((item) => item.id);
  };

  it('filters by reason, queue and time, newest first, and refuses unknown parameters', async () => {
    expect(await listed('reason=unparseable&from=2031-02-01T00:00:00Z')).toEqual([letters[3], letters[1], letters[0]]);
    expect(await listed('reason=unparseable&queue=stockroom.allocations')).toEqual([letters[3], letters[0]]);
    expect(await listed('from=2031-02-01T11:00:00Z&to=2031-02-01T13:00:00Z')).toEqual([letters[2], letters[1]]);
    const page = (await get('/api/v1/admin/dead-letters?from=2031-02-01T00:00:00Z&limit=3')).json();
    expect(page.items).toHaveLength(3);
    expect(await listed(`from=2031-02-01T00:00:00Z&cursor=${page.nextCursor}`)).toEqual([letters[0]]);
    const unknown = await get('/api/v1/admin/dead-letters?color=red');
    expect(unknown.statusCode).toBe(400);
  });

  it('counts in a dry run and changes nothing', async () => {
    const dryRun = await post('/api/v1/admin/dead-letters/purge', { reason: 'unparseable', from: '2031-02-01T00:00:00Z', dryRun: true });
    expect(dryRun.statusCode).toBe(200);
    expect(dryRun.json()).toEqual({
      dryRun: true,
      matched: 3,
      done: 0,
      remaining: 3,
      items: [letters[3], letters[1], letters[0]].map((id) => ({ id, outcome: 'would_purge' })),
    });
    expect(await listed('from=2031-02-01T00:00:00Z')).toHaveLength(4);
  });

  it('refuses a bulk call that names no letters, and answers 401 and 403 to the wrong callers', async () => {
    const empty = await post('/api/v1/admin/dead-letters/replay', { dryRun: true });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.details.issues[0].message).toMatch(/name the dead letters/);
    expect((await post('/api/v1/admin/dead-letters/purge', { reason: 'x' }, service)).statusCode).toBe(403);
    expect((await post('/api/v1/admin/dead-letters/replay', { reason: 'x' }, {})).statusCode).toBe(401);
  });

  it('replays the letters named by id, reporting each, and purges by filter', async () => {
    // An event consumer's letter (no job) is published back to its queue as it came.
    const broker = await amqplib.connect(t.vhost!.url);
    await (await broker.createChannel()).assertQueue('stockroom.orders', { durable: true });
    await broker.close();
    const replayed = await post('/api/v1/admin/dead-letters/replay', { ids: [letters[1]] });
    expect(replayed.statusCode).toBe(200);
    expect(replayed.json()).toMatchObject({ dryRun: false, matched: 1, done: 1, remaining: 0, items: [{ id: letters[1], outcome: 'replayed' }] });
    expect(await listed('status=replayed&from=2031-02-01T00:00:00Z')).toEqual([letters[1]]);
    const again = (await post('/api/v1/admin/dead-letters/replay', { ids: [letters[1]] })).json();
    expect(again).toMatchObject({ matched: 0, done: 0, items: [] });

    const purged = await post('/api/v1/admin/dead-letters/purge', { queue: 'stockroom.allocations', from: '2031-02-01T00:00:00Z' });
    expect(purged.json()).toMatchObject({ matched: 3, done: 3, remaining: 0 });
    expect(await listed('from=2031-02-01T00:00:00Z&status=open')).toEqual([]);
  });
});

/** A Queryable that explains each statement instead of running it: the store's own SQL, planned with the given values. */
function explainer(db: Queryable): Queryable & { plans: string[] } {
  const plans: string[] = [];
  return {
    plans,
    query: (async (text: string, values?: unknown[]) => {
      const result = await db.query(`explain ${text}`, values);
      plans.push(result.rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n'));
      return { ...result, rows: [] };
    }) as Queryable['query'],
  };
}

describe('indexes behind every filter', () => {
  it('plans no sequential scan of jobs or dead letters for any filter, on tables of 20,000 rows', async () => {
    await t.db.pool.query(`
      insert into allocation_requests (id, owner, idempotency_key, request_hash, status, priority, mode, reference_id, reference_type, request, actor, created_at)
      select gen_random_uuid(), 'bulk', 'bulk-' || n, 'h', (array['queued','succeeded','failed','partial','processing','dead_lettered'])[1 + n % 6],
             (array['low','medium','high','critical'])[1 + n % 4], 'reserve', 'bulk-ref-' || n, 'order', '{}'::jsonb, 'bulk', now() - n * interval '1 second'
        from generate_series(1, 20000) n;
      insert into dead_letters (id, queue, reason, attempts, payload, created_at, status)
      select gen_random_uuid(), 'queue-' || n % 50, 'reason-' || n % 50, 1, '{}'::jsonb, now() - n * interval '1 second', 'replayed'
        from generate_series(1, 20000) n;
      analyze allocation_requests; analyze dead_letters;`);
    const db = explainer(t.db.pool);
    const day = { from: new Date(Date.now() - 60_000), to: new Date() };
    for (const filter of [{ id: uuidv7() }, { referenceId: 'bulk-ref-7' }, { statuses: ['failed' as const] }, { priorities: ['critical' as const] }, day]) {
      await searchAllocations(db, { ...filter, limit: 51 });
    }
    for (const selection of [{ reason: 'reason-7' }, { queue: 'queue-7' }, { status: 'open' as const }, day, { ids: [uuidv7()] }]) {
      await listDeadLetters(db, selection, { limit: 51 });
    }
    const seqScans = db.plans.filter((plan) => /Seq Scan on (allocation_requests|dead_letters)\b/.test(plan));
    expect(seqScans).toEqual([]);
    expect(db.plans).toHaveLength(10);
  });
});
