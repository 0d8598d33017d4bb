import type { Pool } from 'pg';
import type { Publisher } from '../amqp/publisher';
import { allocationTopology, brokerPriority } from '../amqp/topology';
import { markPublished } from '../db/allocation-store';
import type { Config } from '../config';
import type { Priority } from '../domain/strategies';
import type { Logger } from '../logger';
import type { AllocationMessage } from '../schemas/allocations';

/** A job whose message is to be published. */
export type JobToPublish = { id: string; priority: Priority };

/** Publishes job messages and notes which ones the broker confirmed. */
export type AllocationDispatcher = {
  /** Publishes each job's message and resolves with the ids the broker confirmed; never rejects. */
  publish(jobs: readonly JobToPublish[]): Promise<string[]>;
  /** Publishes, then marks the confirmed jobs published in a shared batched update (not one per job). */
  dispatch(jobs: readonly JobToPublish[]): Promise<string[]>;
  /** Writes the marks still pending. */
  close(): Promise<void>;
};

const MARK_INTERVAL_MS = 25;
const MARK_BATCH = 500;

/** The message of a job: just its id, so the job itself is only ever read from Postgres. */
export function jobMessage(id: string): Buffer {
  const message: AllocationMessage = { allocationId: id };
  return Buffer.from(JSON.stringify(message));
}

/**
 * A dispatcher on the process's publisher. Confirmed ids are marked published_at a few at a time; a
 * mark that is lost (database down) only means the relay publishes that job again, and the worker
 * serves a job once however many copies arrive.
 */
export function createAllocationDispatcher(pool: Pool, publisher: Publisher | null, config: Config, logger: Logger): AllocationDispatcher {
  const log = logger.child({ component: 'allocation-dispatch' });
  const topology = allocationTopology(config.ALLOCATION_QUEUE, config.JOB_RETRY_DELAYS_MS);
  let pending: string[] = [];
  let timer: NodeJS.Timeout | null = null;
  let flushing: Promise<void> = Promise.resolve();

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = null;
    const ids = pending;
    pending = [];
    if (ids.length === 0) return flushing;
    flushing = flushing.then(() => markPublished(pool, ids)).catch((error: unknown) => log.warn({ err: error, count: ids.length }, 'could not mark jobs published; the relay will publish them again'));
    return flushing;
  };

  const publish = async (jobs: readonly JobToPublish[]): Promise<string[]> => {
    if (!publisher || jobs.length === 0) return [];
    const outcomes = await Promise.allSettled(
      jobs.map((job) =>
        publisher.publish(topology.work, jobMessage(job.id), { messageId: job.id, priority: brokerPriority(job.priority) }, config.PUBLISH_CONFIRM_TIMEOUT_MS),
      ),
    );
    const failed = outcomes.filter((outcome) => outcome.status === 'rejected');
    if (failed.length > 0) log.warn({ err: (failed[0] as PromiseRejectedResult).reason, count: failed.length }, 'jobs left for the relay to publish');
    return jobs.filter((_job, index) => outcomes[index]!.status === 'fulfilled').map((job) => job.id);
  };

  return {
    publish,
    async dispatch(jobs) {
      const confirmed = await publish(jobs);
      if (confirmed.length === 0) return confirmed;
      pending.push(...confirmed);
      if (pending.length >= MARK_BATCH) void flush();
      else timer ??= setTimeout(() => void flush(), MARK_INTERVAL_MS);
      return confirmed;
    },
    close: flush,
  };
}
