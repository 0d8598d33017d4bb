import { findAllocationsByKeys, insertAllocationRequests, type AllocationRow, type NewAllocation } from '../../db/allocation-store';
import type { Queryable } from '../../db/client';
import { isConnectionError } from '../../db/pg-errors';
import { AppError } from '../../errors';

/** Records accepted jobs for the intake; resolves once the job is committed (or found under its key). */
export type IntakeRecorder = { record(job: NewAllocation): Promise<{ row: AllocationRow; created: boolean }> };

type Waiting = { job: NewAllocation; resolve(recorded: { row: AllocationRow; created: boolean }): void; reject(error: unknown): void };

const keyOf = (actor: string, idempotencyKey: string) => `${actor}\u0000${idempotencyKey}`;

/**
 * Records jobs many at a time: jobs that arrive while a write is under way share the next one (one
 * INSERT, one commit for all of them), so under load the commit is paid per batch rather than per
 * request, and an idle intake still writes a job at once. Each caller hears back only after the
 * commit that holds its job. A batch that fails for any reason but a lost database is written again
 * job by job, so one bad job fails alone.
 */
export function createIntakeRecorder(pool: Queryable, options: { maxInFlight: number; maxBatch: number } = { maxInFlight: 2, maxBatch: 500 }): IntakeRecorder {
  const waiting: Waiting[] = [];
  let inFlight = 0;

  const write = async (batch: Waiting[]): Promise<void> => {
    const inserted = new Map(
      (
        await insertAllocationRequests(
          pool,
          batch.map((entry) => entry.job),
        )
      ).map((row) => [row.id, row]),
    );
    const repeated = batch.filter((entry) => !inserted.has(entry.job.id));
    const existing = await findAllocationsByKeys(
      pool,
      repeated.map((entry) => ({ actor: entry.job.actor, idempotencyKey: entry.job.idempotencyKey })),
    );
    const byKey = new Map(existing.map((row) => [keyOf(row.actor, row.idempotencyKey), row]));
    for (const entry of batch) {
      const row = inserted.get(entry.job.id);
      if (row) {
        entry.resolve({ row, created: true });
        continue;
      }
      const first = byKey.get(keyOf(entry.job.actor, entry.job.idempotencyKey));
      if (first) entry.resolve({ row: first, created: false });
      else entry.reject(new AppError('CONFLICT', 'A concurrent request with the same Idempotency-Key did not finish; try again'));
    }
  };

  const pump = (): void => {
    while (waiting.length > 0 && inFlight < options.maxInFlight) {
      const batch = waiting.splice(0, options.maxBatch);
      inFlight++;
      write(batch)
        .catch(async (error: unknown) => {
          if (batch.length === 1 || isConnectionError(error)) {
            for (const entry of batch) entry.reject(error);
            return;
          }
          for (const entry of batch) await write([entry]).catch((alone: unknown) => entry.reject(alone));
        })
        .finally(() => {
          inFlight--;
          pump();
        });
    }
  };

  return {
    record(job) {
      return new Promise((resolve, reject) => {
        waiting.push({ job, resolve, reject });
        pump();
      });
    },
  };
}
