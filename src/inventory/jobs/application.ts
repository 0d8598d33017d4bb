/**
 * The allocation jobs application: what the HTTP routes call to queue and follow jobs and to work
 * the dead letters. It owns the process's job publishing (queues declared, publisher, dispatcher),
 * the intake's batching and each call's answer status.
 */
import type { Pool } from 'pg';
import type { AmqpClient } from '../../amqp/connection';
import type { Caller } from '../../auth/tokens';
import type { Config } from '../../config';
import type { Logger } from '../../logger';
import type { AcceptedAllocation, AllocationView, CreateAllocation, DeadLetter } from '../../schemas/allocations';
import type { IdempotentAnswer } from '../idempotency';
import { openJobPublishing } from './allocation-dispatch';
import { createIntakeRecorder } from './allocation-intake';
import { enqueueAllocation, getAllocation, listAllocations } from './allocations';
import { getDeadLetter, listDeadLetters, purgeDeadLetter, replayDeadLetter } from './dead-letters';

export type JobsApp = {
  /** Accepts a job (202) under its Idempotency-Key (one is generated when none is sent); a repeat answers with the job accepted first. */
  enqueue(caller: Caller, key: string | undefined, body: CreateAllocation): Promise<IdempotentAnswer<AcceptedAllocation>>;
  get(allocationId: string): Promise<AllocationView>;
  list(query: { referenceId: string; limit: number; offset: number }): Promise<AllocationView[]>;
  deadLetters: {
    list(query: { status?: DeadLetter['status']; limit: number; offset: number }): Promise<DeadLetter[]>;
    get(id: string): Promise<DeadLetter>;
    /** Sends a dead letter back to the queue it came from. */
    replay(id: string): Promise<DeadLetter>;
    purge(id: string): Promise<void>;
  };
  /** Writes the publish marks still pending and closes the publisher. */
  close(): Promise<void>;
};

/** The jobs application of one process. */
export async function createJobsApp(deps: { pool: Pool; config: Config; logger: Logger; amqp: AmqpClient | null }): Promise<JobsApp> {
  const { pool, config } = deps;
  const publishing = await openJobPublishing(deps);
  const recorder = createIntakeRecorder(pool);
  const intake = { recorder, dispatcher: publishing.dispatcher, config };
  const letters = { pool, dispatcher: publishing.dispatcher, publisher: publishing.publisher, config };
  return {
    async enqueue(caller, key, body) {
      const { answer, replayed } = await enqueueAllocation(intake, caller, key, body);
      return { status: 202, body: answer, replayed };
    },
    get: (allocationId) => getAllocation(pool, allocationId),
    list: (query) => listAllocations(pool, query),
    deadLetters: {
      list: (query) => listDeadLetters(pool, query),
      get: (id) => getDeadLetter(pool, id),
      replay: (id) => replayDeadLetter(letters, id),
      purge: (id) => purgeDeadLetter(pool, id),
    },
    close: () => publishing.close(),
  };
}
