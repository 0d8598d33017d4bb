import type { Priority } from '../domain/priority';
import type { AllocationStatus, AllocationResult, AllocationResultJson, CreateAllocation, ResultStatus } from '../schemas/allocations';
import { queryPreparedRows, queryRow, queryRows, type Queryable, type Transaction } from './client';
import { isOneOf, raw, sql, toQuery, whereAll, type Sql } from './sql';

/** An allocation job as stored in allocation_requests. */
export type AllocationRow = {
  id: string;
  /** whose job it is (src/domain/ownership.ts) */
  owner: string;
  idempotencyKey: string;
  requestHash: string;
  requestId: string | null;
  status: AllocationStatus;
  priority: Priority;
  mode: 'reserve' | 'allocate';
  referenceId: string;
  referenceType: string;
  request: unknown;
  actor: string;
  attempts: number;
  lastError: string | null;
  deadlineAt: Date | null;
  publishedAt: Date | null;
  startedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
};

/** A job with its result, if it has one. */
export type AllocationWithResult = AllocationRow & { result: AllocationResult | null };

const columns = `
  a.id, a.owner, a.idempotency_key as "idempotencyKey", a.request_hash as "requestHash", a.request_id as "requestId", a.status, a.priority, a.mode,
  a.reference_id as "referenceId", a.reference_type as "referenceType", a.request, a.actor, a.attempts,
  a.last_error as "lastError", a.deadline_at as "deadlineAt", a.published_at as "publishedAt",
  a.started_at as "startedAt", a.created_at as "createdAt", a.updated_at as "updatedAt"`;

export type NewAllocation = {
  id: string;
  owner: string;
  idempotencyKey: string;
  requestHash: string;
  requestId: string | null;
  request: CreateAllocation;
  actor: string;
  deadlineAt: Date | null;
};

/** A job as the intake answers for it: what its 202 says, and what a repeat of its key is checked by. */
export type KeptAllocation = Pick<AllocationRow, 'id' | 'owner' | 'idempotencyKey' | 'requestHash' | 'status' | 'priority'>;

/**
 * Records accepted jobs (unpublished) in one statement; returns the ids of those inserted, and the
 * transaction that inserted them (`pg_current_xact_id()`, null when it inserted none). A job whose
 * owner already used its key (before, or earlier in the same list) is left out: the first job keeps
 * the key. Only the ids come back: the caller knows the rest of what it wrote, and reading each row
 * back cost Postgres the request's JSON text and the api a parse of it per job.
 */
export async function insertAllocationRequests(db: Queryable, jobs: readonly NewAllocation[]): Promise<{ ids: Set<string>; xid: string | null }> {
  if (jobs.length === 0) return { ids: new Set(), xid: null };
  const rows = await queryPreparedRows<{ id: string; xid: string }>(
    db,
    `insert into allocation_requests as a
       (id, owner, idempotency_key, request_hash, request_id, status, priority, mode, reference_id, reference_type, request, actor, deadline_at)
     select id, owner, key, hash, request_id, 'queued', priority, mode, reference_id, reference_type, request, actor, deadline_at
       from rows from (unnest($1::uuid[]), unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), unnest($5::text[]), unnest($6::text[]),
                       unnest($7::text[]), jsonb_array_elements($8::jsonb), unnest($9::text[]), unnest($10::timestamptz[]), unnest($11::text[]),
                       unnest($12::text[]))
         as j(id, key, hash, priority, mode, reference_id, reference_type, request, actor, deadline_at, request_id, owner)
     on conflict (owner, idempotency_key) do nothing
     returning a.id, pg_current_xact_id()::text as xid`,
    [
      jobs.map((job) => job.id),
      jobs.map((job) => job.idempotencyKey),
      jobs.map((job) => job.requestHash),
      jobs.map((job) => job.request.priority),
      jobs.map((job) => job.request.mode),
      jobs.map((job) => job.request.referenceId),
      jobs.map((job) => job.request.referenceType),
      // the requests as one JSON array: a jsonb[] parameter would have the driver escape each one
      JSON.stringify(jobs.map((job) => job.request)),
      jobs.map((job) => job.actor),
      jobs.map((job) => job.deadlineAt),
      jobs.map((job) => job.requestId),
      jobs.map((job) => job.owner),
    ],
  );
  return { ids: new Set(rows.map((row) => row.id)), xid: rows[0]?.xid ?? null };
}

/** The jobs recorded under these (owner, Idempotency-Key) pairs. */
export async function findAllocationsByKeys(db: Queryable, keys: readonly { owner: string; idempotencyKey: string }[]): Promise<KeptAllocation[]> {
  if (keys.length === 0) return [];
  return queryRows<KeptAllocation>(
    db,
    `select a.id, a.owner, a.idempotency_key as "idempotencyKey", a.request_hash as "requestHash", a.status, a.priority
       from allocation_requests a
       join unnest($1::text[], $2::text[]) as k(owner, key) on a.owner = k.owner and a.idempotency_key = k.key`,
    [keys.map((key) => key.owner), keys.map((key) => key.idempotencyKey)],
  );
}

/** One job with its result. */
export async function findAllocation(db: Queryable, id: string): Promise<AllocationWithResult | undefined> {
  return queryRow<AllocationWithResult>(
    db,
    `select ${columns}, r.result from allocation_requests a left join allocation_results r on r.allocation_id = a.id where a.id = $1`,
    [id],
  );
}

/** Which jobs a search returns; every field set narrows it. `afterId` continues a listing after the last job seen. */
export type AllocationFilter = {
  owner?: string;
  id?: string;
  referenceId?: string;
  statuses?: readonly AllocationStatus[];
  priorities?: readonly Priority[];
  from?: Date;
  to?: Date;
  afterId?: string;
  limit: number;
};

/**
 * Jobs with their results, newest first (by acceptance time, then id). Only the filters given become
 * conditions, so each is served by its index: id by the key, owner, owner and reference, status,
 * priority and time by indexes ending in (created_at, id).
 */
export async function searchAllocations(db: Queryable, filter: AllocationFilter): Promise<AllocationWithResult[]> {
  const conditions: Sql[] = [];
  if (filter.owner !== undefined) conditions.push(sql`a.owner = ${filter.owner}`);
  if (filter.id !== undefined) conditions.push(sql`a.id = ${filter.id}::uuid`);
  if (filter.referenceId !== undefined) conditions.push(sql`a.reference_id = ${filter.referenceId}`);
  if (filter.statuses !== undefined) conditions.push(sql`a.status ${isOneOf(filter.statuses)}`);
  if (filter.priorities !== undefined) conditions.push(sql`a.priority ${isOneOf(filter.priorities)}`);
  if (filter.from !== undefined) conditions.push(sql`a.created_at >= ${filter.from}`);
  if (filter.to !== undefined) conditions.push(sql`a.created_at < ${filter.to}`);
  if (filter.afterId !== undefined) {
    conditions.push(sql`(a.created_at, a.id) < (select c.created_at, c.id from allocation_requests c where c.id = ${filter.afterId}::uuid)`);
  }
  const { text, values } = toQuery(sql`select ${raw(columns)}, r.result from allocation_requests a left join allocation_results r on r.allocation_id = a.id
      ${whereAll(conditions)}
      order by a.created_at desc, a.id desc
      limit ${filter.limit}`);
  return queryRows<AllocationWithResult>(db, text, values);
}

/**
 * Notes that the broker confirmed these jobs' messages. Rows locked by a worker are skipped: the
 * worker stamps published_at itself when it starts a job, and waiting for it could deadlock, since
 * both update sets of rows in no fixed order.
 */
export async function markPublished(db: Queryable, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query(
    `update allocation_requests a set published_at = now()
       from (select id from allocation_requests where id = any($1::uuid[]) and published_at is null for update skip locked) free
      where a.id = free.id`,
    [ids],
  );
}

/** A sample of the backlog: jobs accepted and not finished, jobs finished lately, and the snapshot both were read in. */
export type BacklogSample = {
  /** jobs queued or processing, read from the index of unfinished jobs */
  unfinished: number;
  /** jobs finished in the last `windowSeconds`, read from the index of results by completion */
  served: number;
  /** `pg_current_snapshot()` of the count (src/db/snapshots.ts): which intake transactions it saw */
  snapshot: string;
};

/** Counts the backlog and what the workers served in the last `windowSeconds`, in one statement. */
export async function sampleBacklog(db: Queryable, windowSeconds: number): Promise<BacklogSample> {
  const row = await queryRow<BacklogSample>(
    db,
    `select (select count(*)::int from allocation_requests where status in ('queued', 'processing')) as unfinished,
            (select count(*)::int from allocation_results where completed_at > now() - make_interval(secs => $1)) as served,
            pg_current_snapshot()::text as snapshot`,
    [windowSeconds],
  );
  return row!;
}

/** A job to publish: its id, priority and the products it names (they choose its partition). */
export type JobToPublishRow = Pick<AllocationRow, 'id' | 'priority'> & { productIds: string[] };

const productIdsOfRequest = `array(select item ->> 'productId' from jsonb_array_elements(a.request -> 'items') item) as "productIds"`;

/**
 * Claims queued jobs whose message was not confirmed within `olderThanMs`; rows another relay holds
 * are skipped, so relays never publish the same row at the same time.
 */
export async function claimUnpublished(tx: Transaction, olderThanMs: number, limit: number): Promise<JobToPublishRow[]> {
  return queryRows(
    tx,
    `select a.id, a.priority, ${productIdsOfRequest} from allocation_requests a
      where a.published_at is null and a.status = 'queued' and a.updated_at < now() - make_interval(secs => $1::float8 / 1000)
      order by a.created_at limit $2
        for update skip locked`,
    [olderThanMs, limit],
  );
}

/**
 * A job whose message the broker took (or a worker consumed) and which has not finished: if nothing
 * changes it for long, its message was lost (a deleted queue, a purge, a broker that lost its disk),
 * since a published job is served or retried within a bound. The relay publishes such jobs again
 * (claimStalled), and the consistency check reports them (stuck_job).
 */
export const publishedUnfinishedSql = `a.status in ('queued', 'processing') and a.published_at is not null`;

/** Claims published jobs left unfinished and untouched for `olderThanMs` (publishedUnfinishedSql); rows another relay holds are skipped. */
export async function claimStalled(tx: Transaction, olderThanMs: number, limit: number): Promise<JobToPublishRow[]> {
  return queryRows(
    tx,
    `select a.id, a.priority, ${productIdsOfRequest} from allocation_requests a
      where ${publishedUnfinishedSql} and a.updated_at < now() - make_interval(secs => $1::float8 / 1000)
      order by a.updated_at limit $2
        for update skip locked`,
    [olderThanMs, limit],
  );
}

/** Locks a published job still unfinished, for publishing it again (a job a fix call requeues); undefined when it finished meanwhile. */
export async function lockPublishedUnfinishedJob(tx: Transaction, id: string): Promise<JobToPublishRow | undefined> {
  return queryRow(tx, `select a.id, a.priority, ${productIdsOfRequest} from allocation_requests a where a.id = $1 and ${publishedUnfinishedSql} for update`, [
    id,
  ]);
}

/** Notes that stalled jobs were published again: the bound starts over, so each is republished at most once per bound. */
export async function markRepublished(tx: Transaction, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.query(`update allocation_requests set published_at = now(), updated_at = now() where id = any($1::uuid[])`, [ids]);
}

/** A job as the worker serves it: only the columns it reads, so locking a batch parses no more of each row than that. */
export type RunnableAllocation = Pick<AllocationRow, 'id' | 'owner' | 'idempotencyKey' | 'priority' | 'request' | 'actor' | 'deadlineAt' | 'createdAt'>;

/**
 * Locks the jobs that may run (queued, or processing as an earlier version of the worker left them),
 * in id order, and returns them: the first statement of the transaction that serves them, so a
 * duplicate message served by another worker waits here and then finds its job finished. Nothing is
 * written here: the attempt, its start and the final status go in the batch's write
 * (allocationStatusesUpdate), so a job reads as queued until the transaction serving it commits.
 * FOR NO KEY UPDATE: rows inserted meanwhile that refer to a job (a dead letter) need not wait.
 */
export async function lockRunnableAllocations(tx: Transaction, ids: readonly string[]): Promise<RunnableAllocation[]> {
  if (ids.length === 0) return [];
  return queryRows<RunnableAllocation>(
    tx,
    `select a.id, a.owner, a.idempotency_key as "idempotencyKey", a.priority, a.request, a.actor,
            a.deadline_at as "deadlineAt", a.created_at as "createdAt"
       from allocation_requests a
      where a.id = any($1::uuid[]) and a.status in ('queued', 'processing')
      order by a.id
        for no key update`,
    [ids],
  );
}

/** Which of these ids exist at all (for telling finished jobs from messages about unknown ones). */
export async function existingAllocationIds(db: Queryable, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await queryRows<{ id: string }>(db, `select id from allocation_requests where id = any($1::uuid[])`, [ids]);
  return new Set(rows.map((row) => row.id));
}

/** A finished job's result, to keep, in its JSON form; its reservation, execution time and completion are the result's. */
export type FinishedAllocation = { id: string; status: ResultStatus; result: AllocationResultJson };

/**
 * The statement keeping finished jobs' results (a part of commitWrites, in the transaction that locked
 * the jobs); a result written before stays as it was. The rows go as one JSON document, each result
 * inside it as JSON, rather than as a jsonb[] parameter the driver would escape result by result. The
 * columns a result holds already (its reservation, execution time and completion) are read from it
 * rather than written twice.
 */
export function allocationResultsInsert(finished: readonly FinishedAllocation[]): Sql {
  return sql`insert into allocation_results (allocation_id, status, result, reservation_id, execution_time_ms, completed_at)
             select id, status, result, (result ->> 'reservationId')::uuid, (result ->> 'executionTimeMs')::int, (result ->> 'completedAt')::timestamptz
               from jsonb_to_recordset(${JSON.stringify(finished)}::jsonb) as (id uuid, status text, result jsonb)
             on conflict (allocation_id) do nothing`;
}

/**
 * What an attempt that ended writes on its job, served or failed: the attempt counted, its start —
 * now(), the start of the transaction that locked the job — kept when an earlier attempt set it, and
 * its publication: a job whose message was consumed was published, whether or not the confirm's mark
 * reached it (markPublished skips the rows a worker holds).
 */
const attemptEndedSql = `attempts = a.attempts + 1, started_at = coalesce(a.started_at, now()), published_at = coalesce(a.published_at, now())`;

/** The statement finishing jobs (a part of commitWrites, beside allocationResultsInsert): their status, and the attempt that ended (attemptEndedSql). */
export function allocationStatusesUpdate(finished: readonly FinishedAllocation[]): Sql {
  return sql`update allocation_requests a
                set status = f.status, ${raw(attemptEndedSql)}, last_error = null, updated_at = now()
               from unnest(${finished.map((job) => job.id)}::uuid[], ${finished.map((job) => job.status)}::text[]) as f(id, status)
              where a.id = f.id`;
}

/** Counts a failed attempt on each job (attemptEndedSql), keeping why (the attempt's transaction rolled back); they wait in a retry queue. */
export async function recordFailedAttempts(db: Queryable, failures: readonly { id: string; error: string }[]): Promise<void> {
  if (failures.length === 0) return;
  await db.query(
    `update allocation_requests a
        set status = 'queued', ${attemptEndedSql}, last_error = f.error, updated_at = now()
       from unnest($1::uuid[], $2::text[]) as f(id, error)
      where a.id = f.id and a.status in ('queued', 'processing')`,
    [failures.map((failure) => failure.id), failures.map((failure) => failure.error)],
  );
}

/**
 * Marks jobs dead-lettered with their last error, counting the attempt that ended them: the count is at
 * least the letter's own (its message's failed attempts and deliveries, which include attempts that
 * ended in a crash before writing anything).
 */
export async function markDeadLettered(tx: Transaction, failures: readonly { id: string; error: string; attempts: number }[]): Promise<void> {
  if (failures.length === 0) return;
  await tx.query(
    `update allocation_requests a
        set status = 'dead_lettered', attempts = greatest(a.attempts + 1, f.attempts), last_error = f.error, updated_at = now()
       from unnest($1::uuid[], $2::text[], $3::int[]) as f(id, error, attempts)
      where a.id = f.id and a.status in ('queued', 'processing')`,
    [failures.map((failure) => failure.id), failures.map((failure) => failure.error), failures.map((failure) => failure.attempts)],
  );
}

/** Queues a dead-lettered job again with a fresh count of attempts and no message yet (the relay publishes it if the caller cannot). */
export async function requeueAllocation(tx: Transaction, id: string): Promise<JobToPublishRow | undefined> {
  return queryRow(
    tx,
    `update allocation_requests a
        set status = 'queued', attempts = 0, last_error = null, started_at = null, published_at = null, updated_at = now()
      where a.id = $1 and a.status = 'dead_lettered'
      returning a.id, a.priority, ${productIdsOfRequest}`,
    [id],
  );
}
