import { findAllocationsByKeys, insertAllocationRequests, type KeptAllocation, type NewAllocation } from '../../db/allocation-store';
import type { Queryable } from '../../db/client';
import { isConnectionError } from '../../db/pg-errors';
import { AppError } from '../../errors';
import { createMicroBatcher, type Settled } from '../../micro-batcher';

/**
 * A job as the intake recorded it: the row kept under its key, and whether this call created it —
 * then with the transaction that did (`xid`, what the backlog gate tells counts that saw it by).
 */
export type RecordedJob = { row: KeptAllocation; created: true; xid: string } | { row: KeptAllocation; created: false };

/** Records accepted jobs for the intake; resolves once the job is committed (or found under its key). */
export type IntakeRecorder = {
  record(job: NewAllocation): Promise<RecordedJob>;
  /**
   * Records the jobs of one bulk call together: one INSERT (one transaction, all or nothing), then
   * the rows of the keys that were taken already. One Settled per job, in order; rejects when the
   * write fails as a whole.
   */
  recordBatch(jobs: readonly NewAllocation[]): Promise<Settled<RecordedJob>[]>;
};

const keyOf = (owner: string, idempotencyKey: string) => `${owner}\u0000${idempotencyKey}`;

/** The row of a job this call inserted, as the insert wrote it. */
const keptRowOf = (job: NewAllocation): KeptAllocation => ({
  id: job.id,
  owner: job.owner,
  idempotencyKey: job.idempotencyKey,
  requestHash: job.requestHash,
  status: 'queued',
  priority: job.request.priority,
});

/**
 * Records jobs in one INSERT, under their keys the second idempotency strategy's way (insert, then
 * read back what a conflict kept; see src/inventory/idempotency.ts): a job whose key was taken
 * gets the row that holds it.
 */
async function recordJobs(db: Queryable, jobs: readonly NewAllocation[]): Promise<Settled<RecordedJob>[]> {
  const inserted = await insertAllocationRequests(db, jobs);
  const repeated = jobs.filter((job) => !inserted.ids.has(job.id));
  const existing = await findAllocationsByKeys(
    db,
    repeated.map((job) => ({ owner: job.owner, idempotencyKey: job.idempotencyKey })),
  );
  const byKey = new Map(existing.map((row) => [keyOf(row.owner, row.idempotencyKey), row]));
  return jobs.map((job): Settled<RecordedJob> => {
    if (inserted.ids.has(job.id)) return { ok: true, value: { row: keptRowOf(job), created: true, xid: inserted.xid! } };
    const first = byKey.get(keyOf(job.owner, job.idempotencyKey));
    if (first) return { ok: true, value: { row: first, created: false } };
    return { ok: false, error: new AppError('CONFLICT', 'A concurrent request with the same Idempotency-Key did not finish; try again') };
  });
}

/**
 * Records jobs many at a time (a micro-batcher): jobs that arrive while a write is under way share
 * the next one (one INSERT, one commit for all of them), so under load the commit is paid per batch
 * rather than per request, and an idle intake still writes a job at once. Each caller hears back
 * only after the commit that holds its job. A batch that fails for any reason but a lost database
 * is written again job by job, so one bad job fails alone. A bulk call's jobs are a batch already:
 * they are written together at once, not through the micro-batcher.
 */
export function createIntakeRecorder(pool: Queryable, options: { maxInFlight: number; maxBatch: number } = { maxInFlight: 2, maxBatch: 500 }): IntakeRecorder {
  const batcher = createMicroBatcher<NewAllocation, RecordedJob>({
    ...options,
    run: (jobs) => recordJobs(pool, jobs),
    isolate: (error) => !isConnectionError(error),
  });
  return { record: (job) => batcher.submit(job), recordBatch: (jobs) => recordJobs(pool, jobs) };
}
