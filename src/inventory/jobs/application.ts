/**
 * The allocation jobs application: what the HTTP routes call to queue and follow jobs and to work
 * the dead letters. It owns the process's job publishing (queues declared, publisher, dispatcher),
 * the intake's batching and each call's answer status.
 */
import type { Pool } from 'pg';
import type { AmqpClient } from '../../amqp/connection';
import type { Caller } from '../../auth/tokens';
import type { Config } from '../../config';
import { scopeOf } from '../../domain/ownership';
import type { Logger } from '../../logger';
import type {
  AcceptedAllocation,
  AllocationBatchResult,
  AllocationSearch,
  AllocationView,
  BulkDeadLetterAnswer,
  BulkDeadLetterSelection,
  CreateAllocation,
  DeadLetter,
  DeadLetterSearch,
} from '../../schemas/allocations';
import type { IdempotentAnswer } from '../idempotency';
import { enqueueAllocationBatch } from './allocation-batch';
import { openJobPublishing, type AllocationDispatcher } from './allocation-dispatch';
import { createIntakeRecorder } from './allocation-intake';
import { createBacklogGate } from './backlog';
import { enqueueAllocation, getAllocation, listAllocations } from './allocations';
import { getDeadLetter, listDeadLetters, purgeDeadLetter, purgeDeadLetters, replayDeadLetter, replayDeadLetters } from './dead-letters';

export type JobsApp = {
  /**
   * Accepts a job (202) under its Idempotency-Key (one is generated when none is sent); a repeat answers with the job accepted first.
   * With the backlog at ALLOCATION_MAX_BACKLOG it refuses the job: 503 OVERLOADED.
   * `requestId` (the accepting call's x-request-id) is kept with the job.
   */
  enqueue(caller: Caller, key: string | undefined, body: CreateAllocation, requestId: string | null): Promise<IdempotentAnswer<AcceptedAllocation>>;
  /**
   * Accepts up to 1,000 jobs in one call, each checked and keyed on its own and answered as `enqueue`
   * would answer it (202, or its refusal), the accepted ones recorded in one write. Refused whole
   * with 503 OVERLOADED when its valid jobs would take the backlog past ALLOCATION_MAX_BACKLOG.
   */
  enqueueBatch(caller: Caller, jobs: readonly unknown[], requestId: string | null): Promise<AllocationBatchResult>;
  /** A job the caller may see; 404 for another owner's. */
  get(caller: Caller, allocationId: string): Promise<AllocationView>;
  /** One page of a search of the caller's own jobs (an admin's: everyone's, or one owner's), newest first. */
  list(caller: Caller, query: AllocationSearch): Promise<{ items: AllocationView[]; nextCursor: string | null }>;
  deadLetters: {
    list(query: DeadLetterSearch): Promise<{ items: DeadLetter[]; nextCursor: string | null }>;
    get(id: string): Promise<DeadLetter>;
    /** Sends a dead letter back to the queue it came from. */
    replay(id: string): Promise<DeadLetter>;
    purge(id: string): Promise<void>;
    /** Replays the open letters of a selection (at most 500 a call), or counts them in a dry run. */
    replayMany(selection: BulkDeadLetterSelection): Promise<BulkDeadLetterAnswer>;
    /** Purges the letters of a selection (at most 500 a call), or counts them in a dry run. */
    purgeMany(selection: BulkDeadLetterSelection): Promise<BulkDeadLetterAnswer>;
  };
  /** The process's job dispatcher, for publishing jobs again outside the intake (a consistency fix). */
  dispatcher: AllocationDispatcher;
  /** Writes the publish marks still pending and closes the publisher. */
  close(): Promise<void>;
};

/** The jobs application of one process. */
export async function createJobsApp(deps: { pool: Pool; config: Config; logger: Logger; amqp: AmqpClient | null }): Promise<JobsApp> {
  const { pool, config } = deps;
  const publishing = await openJobPublishing(deps);
  const recorder = createIntakeRecorder(pool);
  const intake = { recorder, dispatcher: publishing.dispatcher, gate: createBacklogGate(pool, config, deps.logger), config };
  const letters = { pool, dispatcher: publishing.dispatcher, publisher: publishing.publisher, config };
  return {
    async enqueue(caller, key, body, requestId) {
      const { answer, replayed } = await enqueueAllocation(intake, caller, key, body, requestId);
      return { status: 202, body: answer, replayed };
    },
    enqueueBatch: (caller, jobs, requestId) => enqueueAllocationBatch(intake, caller, jobs, requestId),
    get: (caller, allocationId) => getAllocation(pool, allocationId, scopeOf(caller)),
    list: (caller, query) => listAllocations(pool, query, scopeOf(caller)),
    deadLetters: {
      list: (query) => listDeadLetters(pool, query),
      get: (id) => getDeadLetter(pool, id),
      replay: (id) => replayDeadLetter(letters, id),
      purge: (id) => purgeDeadLetter(pool, id),
      replayMany: (selection) => replayDeadLetters(letters, selection),
      purgeMany: (selection) => purgeDeadLetters(pool, selection),
    },
    dispatcher: publishing.dispatcher,
    close: () => publishing.close(),
  };
}
