import type { Pool } from 'pg';
import type { Config } from '../../config';
import {
  existingAllocationIds,
  lockRunnableAllocations,
  markDeadLettered,
  recordFailedAttempts,
  type FinishedAllocation,
  type RunnableAllocation,
} from '../../db/allocation-store';
import { withTransaction, type Transaction } from '../../db/client';
import { commitWrites } from '../../db/writes';
import { insertDeadLetters, type NewDeadLetter } from '../../db/dead-letter-store';
import { isTransientDatabaseError, pgCode } from '../../db/pg-errors';
import { byPriorityThenArrival } from '../../domain/priority';
import { batchSize, jobLatency, jobsTotal } from '../../metrics';
import { runIsolated } from '../../micro-batcher';
import { createAllocationBody, isStoredAllocation, type AllocationResultJson, type CreateAllocation, type ResultStatus } from '../../schemas/allocations';
import { serve, type EngineOutcome, type EngineRequest, type ServedRequest } from '../engine';

/** What became of one job of a batch. */
export type JobOutcome =
  /** its result is written (served, or failed with timeout) */
  | { kind: 'finished'; status: ResultStatus }
  /** it had finished before (a redelivered or duplicate message) */
  | { kind: 'already_finished' }
  /** no such job: the message is poison */
  | { kind: 'unknown' }
  /** its stored request is not a valid request: it can never run */
  | { kind: 'invalid'; error: string }
  /** the attempt failed; `retryable` when running it again may succeed */
  | { kind: 'failed'; error: string; retryable: boolean };

/** A job to serve; `traceparent`, the trace context of its message, which the events it causes continue. */
type Job = { row: RunnableAllocation; request: CreateAllocation; traceparent: string | null };

const resultStatusOf: Record<ServedRequest['outcome'], ResultStatus> = { complete: 'succeeded', partial: 'partial', none: 'failed' };

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function engineRequest(job: Job): EngineRequest {
  const { request, row } = job;
  return {
    key: row.id,
    allocationId: row.id,
    mode: request.mode,
    lines: request.items.map((item) => ({
      productId: item.productId,
      quantity: item.quantity,
      ...(item.warehouseId ? { warehouseId: item.warehouseId } : {}),
      ...(item.serialNumbers ? { serialNumbers: item.serialNumbers } : {}),
    })),
    strategy: request.strategy,
    priority: request.priority,
    allowPartial: request.allowPartial,
    allowBackorder: request.allowBackorder,
    ...(request.destination ? { destination: request.destination } : {}),
    owner: row.owner,
    orderId: request.referenceId,
    referenceType: request.referenceType,
    ...(request.reservationMinutes !== undefined ? { reservationMinutes: request.reservationMinutes } : {}),
    actor: row.actor,
    traceparent: job.traceparent,
  };
}

/** When a batch's jobs completed, and that time as the results write it. */
type Completion = { at: Date; text: string };

/**
 * A job's result in its JSON form, times as text: a Date costs JSON.stringify a call of toISOString,
 * and the batch's completion is written once for all its jobs. Written out field by field, the
 * optional ones added only when present: spreading a common part and optional parts into it cost
 * more than anything else of building it.
 */
function resultOf(
  job: Job,
  status: ResultStatus,
  items: Pick<AllocationResultJson, 'allocatedItems' | 'failedItems' | 'totalAllocated'>,
  startedAt: number,
  completed: Completion,
): AllocationResultJson {
  let totalRequested = 0;
  for (const item of job.request.items) totalRequested += item.quantity;
  return {
    allocationId: job.row.id,
    status,
    allocatedItems: items.allocatedItems,
    failedItems: items.failedItems,
    totalRequested,
    totalAllocated: items.totalAllocated,
    executionTimeMs: Math.max(0, completed.at.getTime() - startedAt),
    idempotencyKey: job.row.idempotencyKey,
    createdAt: job.row.createdAt.toISOString(),
    completedAt: completed.text,
  };
}

function servedResult(job: Job, outcome: EngineOutcome, startedAt: number, completed: Completion): FinishedAllocation {
  // jobs never ask to be refused for unknown or discontinued products: their lines fail instead
  if (outcome.outcome === 'unknown_reference' || outcome.outcome === 'discontinued') throw new Error(`job ${job.row.id} was refused (${outcome.outcome})`);
  const status = resultStatusOf[outcome.outcome];
  let totalAllocated = 0;
  const allocatedItems = outcome.takes.map((take) => {
    totalAllocated += take.quantity;
    return { productId: take.productId, warehouseId: take.warehouseId, lotId: take.lotId, lotNumber: take.lotNumber, quantity: take.quantity };
  });
  const failedItems = outcome.failedLines.map((line): AllocationResultJson['failedItems'][number] => {
    const item: AllocationResultJson['failedItems'][number] = {
      productId: line.productId,
      requestedQuantity: line.requestedQuantity,
      availableQuantity: line.availableQuantity,
      reason: line.reason,
      errorMessage: line.errorMessage,
    };
    if (line.unavailableSerials !== undefined) item.unavailableSerials = line.unavailableSerials;
    return item;
  });
  const result = resultOf(job, status, { allocatedItems, failedItems, totalAllocated }, startedAt, completed);
  if (outcome.reservation) result.reservationId = outcome.reservation.reservationId;
  if (outcome.backorders.length > 0) result.backorderIds = outcome.backorders.map((backorder) => backorder.id);
  return { id: job.row.id, status, result };
}

function timedOutResult(job: Job, startedAt: number, completed: Completion): FinishedAllocation {
  const failedItems = job.request.items.map((item) => ({
    productId: item.productId,
    requestedQuantity: item.quantity,
    availableQuantity: 0,
    reason: 'timeout',
    errorMessage: `Not started before its deadline (${job.row.deadlineAt!.toISOString()}); no stock was touched`,
  }));
  return { id: job.row.id, status: 'failed', result: resultOf(job, 'failed', { allocatedItems: [], failedItems, totalAllocated: 0 }, startedAt, completed) };
}

/**
 * Reads the locked jobs' stored requests: the intake stored each as createAllocationBody parsed it,
 * so a cheap check of its shape, and a full parse only when that fails (a request that fails it can
 * never run): the jobs to serve, and the outcomes of those that cannot.
 */
function jobsOf(rows: readonly RunnableAllocation[], traceparents: ReadonlyMap<string, string>): { jobs: Job[]; invalid: [string, JobOutcome][] } {
  const jobs: Job[] = [];
  const invalid: [string, JobOutcome][] = [];
  for (const row of rows) {
    const traceparent = traceparents.get(row.id) ?? null;
    if (isStoredAllocation(row.request)) {
      jobs.push({ row, request: row.request, traceparent });
      continue;
    }
    const parsed = createAllocationBody.safeParse(row.request);
    if (parsed.success) jobs.push({ row, request: parsed.data, traceparent });
    else
      invalid.push([
        row.id,
        { kind: 'invalid', error: `stored request is invalid: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}` },
      ]);
  }
  return { jobs, invalid };
}

/** The outcomes of the ids that were not locked: finished before (a redelivered or duplicate message), or no such job. */
async function notRunnable(tx: Transaction, ids: readonly string[], rows: readonly RunnableAllocation[]): Promise<[string, JobOutcome][]> {
  if (rows.length === ids.length) return [];
  const locked = new Set(rows.map((row) => row.id));
  const missing = ids.filter((id) => !locked.has(id));
  const existing = await existingAllocationIds(tx, missing);
  return missing.map((id) => [id, existing.has(id) ? { kind: 'already_finished' } : { kind: 'unknown' }]);
}

/** One attempt at a batch's jobs: where it runs, the trace context of each job's events, when it began. */
type Attempt = { pool: Pool; config: Config; traceparents: ReadonlyMap<string, string>; startedAt: number };

/**
 * Serves jobs in one transaction: the jobs that may run are locked first (so a duplicate elsewhere
 * waits, then finds them done), the engine serves them in priority-then-arrival order with one lock
 * of every lot involved, and every result, status and count of the attempt is written in its last
 * statement — a job is queued until that commits. A job past its deadline fails with timeout and
 * touches no stock.
 */
async function serveTogether(attempt: Attempt, ids: readonly string[]): Promise<Map<string, JobOutcome>> {
  const { pool, config, traceparents, startedAt } = attempt;
  const { unserved, finished, completedAt, acceptedAt } = await withTransaction(pool, async (tx) => {
    const rows = await lockRunnableAllocations(tx, ids);
    const missing = await notRunnable(tx, ids, rows);
    const { jobs, invalid } = jobsOf(rows, traceparents);
    const now = new Date();
    const late = jobs.filter((job) => job.row.deadlineAt !== null && job.row.deadlineAt.getTime() <= now.getTime());
    const due = jobs.filter((job) => !late.includes(job)).sort((a, b) => byPriorityThenArrival(a.row, b.row));
    const { outcomes: served, writes } = await serve(tx, due.map(engineRequest), { now, config });
    const at = new Date();
    const completed = { at, text: at.toISOString() };
    const results = [
      ...due.map((job, index) => servedResult(job, served[index]!, startedAt, completed)),
      ...late.map((job) => timedOutResult(job, startedAt, completed)),
    ];
    if (results.length > 0) await commitWrites(tx, writes, { finishedAllocations: results });
    return {
      unserved: [...missing, ...invalid],
      finished: results,
      completedAt: at,
      acceptedAt: new Map(jobs.map((job) => [job.row.id, job.row.createdAt])),
    };
  });
  const outcomes = new Map<string, JobOutcome>(unserved);
  if (finished.length > 0) batchSize.observe({ path: 'queued' }, finished.length);
  for (const job of finished) {
    jobsTotal.inc({ status: job.status });
    jobLatency.observe((completedAt.getTime() - acceptedAt.get(job.id)!.getTime()) / 1000);
    outcomes.set(job.id, { kind: 'finished', status: job.status });
  }
  return outcomes;
}

/** lock_not_available: a lock wait ran out of lock_timeout. */
const LOCK_NOT_AVAILABLE = '55P03';
const LOCK_RETRY_PAUSE_MS = 100;

/**
 * Serves a batch, running it again as long as it only failed because a lot it needs stayed locked
 * past lock_timeout, for up to the longest a stuck holder can keep its locks (a session idle in its
 * transaction is ended after WORKER_IDLE_IN_TRANSACTION_TIMEOUT_MS) plus one more wait: a frozen
 * worker then delays the batch, and costs its jobs no attempt.
 */
async function serveWhenLocksFree(attempt: Attempt, ids: readonly string[]): Promise<Map<string, JobOutcome>> {
  const { config } = attempt;
  const patienceMs = config.WORKER_IDLE_IN_TRANSACTION_TIMEOUT_MS + config.WORKER_LOCK_TIMEOUT_MS;
  const giveUpAt = Date.now() + patienceMs;
  for (;;) {
    try {
      return await serveTogether(attempt, ids);
    } catch (error) {
      if (pgCode(error) !== LOCK_NOT_AVAILABLE || patienceMs === 0 || Date.now() >= giveUpAt) throw error;
      await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_PAUSE_MS));
    }
  }
}

/**
 * Runs one attempt of each job, all in one transaction that locks them, serves them and finishes
 * them. A transient failure fails the whole attempt as retryable; any other failure of a batch is
 * isolated by serving its jobs one by one (runIsolated), so one bad job cannot hold back the others.
 * `traceparents` gives, by job id, the trace context the events of each job continue.
 */
export async function runAllocationJobs(
  pool: Pool,
  config: Config,
  ids: readonly string[],
  traceparents: ReadonlyMap<string, string> = new Map(),
): Promise<Map<string, JobOutcome>> {
  const attempt: Attempt = { pool, config, traceparents, startedAt: Date.now() };
  // a transient failure fails the whole attempt; any other is isolated, each job served alone
  const settled = await runIsolated(
    ids,
    async (batch) => {
      const served = await serveWhenLocksFree(attempt, batch);
      return batch.map((id) => ({ ok: true as const, value: served.get(id)! }));
    },
    (error) => !isTransientDatabaseError(error),
  );
  return new Map(
    ids.map((id, index): [string, JobOutcome] => {
      const outcome = settled[index]!;
      return [id, outcome.ok ? outcome.value : { kind: 'failed', error: describe(outcome.error), retryable: isTransientDatabaseError(outcome.error) }];
    }),
  );
}

/** Counts a failed attempt on each job (queued, with its error) while its message waits to be retried. */
export async function recordRetries(pool: Pool, failures: readonly { id: string; error: string }[]): Promise<void> {
  await recordFailedAttempts(pool, failures);
}

/** Keeps messages that cannot be processed and marks their jobs dead_lettered, in one transaction. */
export async function deadLetterJobs(pool: Pool, letters: readonly NewDeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  await withTransaction(pool, async (tx) => {
    await insertDeadLetters(tx, letters);
    await markDeadLettered(
      tx,
      letters.flatMap((letter) =>
        letter.allocationId === null ? [] : [{ id: letter.allocationId, error: letter.lastError ?? letter.reason, attempts: letter.attempts }],
      ),
    );
  });
  for (const letter of letters) if (letter.allocationId) jobsTotal.inc({ status: 'dead_lettered' });
}
