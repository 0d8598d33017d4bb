/**
 * Bulk intake: POST /allocations/batch takes many jobs in one call, each checked, keyed and answered
 * as POST /allocations would answer it alone, and records the accepted ones in one write.
 */
import type { z } from 'zod';
import type { Caller } from '../../auth/tokens';
import type { NewAllocation } from '../../db/allocation-store';
import { AppError } from '../../errors';
import { jobsTotal } from '../../metrics';
import { allocationBatchEntrySchema, type AllocationBatchEntryResult, type AllocationBatchResult, type CreateAllocation } from '../../schemas/allocations';
import { assertSameRequest } from '../idempotency';
import type { JobToPublish } from './allocation-dispatch';
import { acceptedAnswer, beyondConfiguredLimits, newJob, toPublish, type IntakeDeps } from './allocations';

/** The zod issues of an entry in the shape a refused body lists them (as the error handler does for a whole body). */
function issuesOf(error: z.ZodError): Record<string, unknown>[] {
  return error.issues.map(({ path, message, code, ...params }) => ({ path: path.join('.'), message, code, ...params }));
}

function refused(index: number, error: AppError): AllocationBatchEntryResult {
  return { index, status: error.status, replayed: false, body: error.toBody() };
}

/** An entry that passed its checks: its job row and the request it holds. */
type CheckedEntry = { index: number; job: NewAllocation; request: CreateAllocation };

/**
 * Accepts a batch of jobs. Each entry is checked on its own (the schema of AllocationBatchEntry and
 * the configured limits); an invalid one is answered 400 with its issues and records nothing. The
 * valid ones pass the backlog gate together — the whole call is refused with 503 OVERLOADED when
 * they would take the backlog past its bound — and are recorded in one INSERT under their own keys.
 * Then, as POST /allocations answers: a new job is 202, a key accepted before with the same request
 * replays that job (202, `replayed`), a key used before with another request is 422. The new jobs'
 * messages are published together, each to its product's partition, before the call answers; what
 * the broker does not confirm, the relay publishes later.
 */
export async function enqueueAllocationBatch(
  deps: IntakeDeps,
  caller: Caller,
  entries: readonly unknown[],
  requestId: string | null,
): Promise<AllocationBatchResult> {
  const results: AllocationBatchEntryResult[] = new Array<AllocationBatchEntryResult>(entries.length);
  const checked: CheckedEntry[] = [];
  entries.forEach((entry, index) => {
    const parsed = allocationBatchEntrySchema.safeParse(entry);
    if (!parsed.success) {
      results[index] = refused(index, new AppError('VALIDATION_FAILED', `Invalid job at index ${index}`, { index, issues: issuesOf(parsed.error) }));
      return;
    }
    const { idempotencyKey, request } = parsed.data;
    const beyond = beyondConfiguredLimits(request, deps.config);
    if (beyond) {
      results[index] = refused(index, new AppError(beyond.code, beyond.message, { index, ...(beyond.details as object) }));
      return;
    }
    checked.push({ index, job: newJob(caller, idempotencyKey, request, requestId), request });
  });

  if (checked.length > 0) {
    await deps.gate.admit(checked.length);
    const recorded = await deps.recorder.recordBatch(checked.map((entry) => entry.job));
    const created: JobToPublish[] = [];
    // the batch's jobs are written by one INSERT: one transaction
    let xid: string | null = null;
    for (const [position, entry] of checked.entries()) {
      const outcome = recorded[position]!;
      if (!outcome.ok) {
        // a key held by a concurrent call that has not finished: CONFLICT, for this entry alone
        if (!(outcome.error instanceof AppError)) throw outcome.error;
        results[entry.index] = refused(entry.index, outcome.error);
        continue;
      }
      const { row } = outcome.value;
      if (outcome.value.created) {
        xid = outcome.value.xid;
        created.push(toPublish(row, entry.request));
        results[entry.index] = { index: entry.index, status: 202, replayed: false, body: acceptedAnswer(row, false) };
        continue;
      }
      try {
        assertSameRequest(row.requestHash, { key: entry.job.idempotencyKey, hash: entry.job.requestHash }, { allocationId: row.id, index: entry.index });
        results[entry.index] = { index: entry.index, status: 202, replayed: true, body: acceptedAnswer(row, true) };
      } catch (error) {
        results[entry.index] = refused(entry.index, error as AppError);
      }
    }
    if (xid !== null) {
      jobsTotal.inc({ status: 'queued' }, created.length);
      deps.gate.accepted(created.length, xid);
      await deps.dispatcher.dispatch(created);
    }
  }
  const accepted = results.filter((result) => result.status === 202).length;
  return { accepted, refused: results.length - accepted, results };
}
