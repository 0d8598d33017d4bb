import type { Pool } from 'pg';
import type { AmqpClient } from '../../amqp/connection';
import { createPublisher, type Publisher } from '../../amqp/publisher';
import { allocationPartitions, allocationQueuesOf, brokerPriority, keepAllocationTopology, quorumQueuesOf, workQueueFor } from '../../amqp/topology';
import { markPublished } from '../../db/allocation-store';
import type { Config } from '../../config';
import { partitionOf } from '../../domain/partition';
import type { Priority } from '../../domain/priority';
import type { Logger } from '../../logger';
import type { AllocationMessage } from '../../schemas/allocations';

/** A job whose message is to be published: its products choose its partition (src/domain/partition.ts). */
export type JobToPublish = { id: string; priority: Priority; productIds: readonly string[] };

/** Publishes job messages and notes which ones the broker confirmed. */
export type AllocationDispatcher = {
  /** Publishes each job's message and resolves with the ids the broker confirmed; never rejects. */
  publish(jobs: readonly JobToPublish[]): Promise<string[]>;
  /** Publishes, then marks the confirmed jobs published about a second later, in a shared batched update (not one per job). */
  dispatch(jobs: readonly JobToPublish[]): Promise<string[]>;
  /** Writes the marks still pending, due or not. */
  close(): Promise<void>;
};

/**
 * How long after its confirm a job is marked published. By then a worker has usually started it and
 * stamped published_at itself, so the mark finds nothing left to write. Never more than half the
 * relay's wait (ALLOCATION_RELAY_AFTER_MS), so the relay does not publish a confirmed job again.
 */
const MARK_DELAY_MS = 1000;
const MARK_TICK_MS = 250;

/** The message of a job: just its id, so the job itself is only ever read from Postgres. */
export function jobMessage(id: string): Buffer {
  const message: AllocationMessage = { allocationId: id };
  return Buffer.from(JSON.stringify(message));
}

/**
 * A dispatcher on the process's publisher. Confirmed ids are marked published_at many at a time; a
 * mark that is lost (database down) only means the relay publishes that job again, and the worker
 * serves a job once however many copies arrive.
 */
export function createAllocationDispatcher(pool: Pool, publisher: Publisher | null, config: Config, logger: Logger): AllocationDispatcher {
  const log = logger.child({ component: 'allocation-dispatch' });
  const partitions = allocationPartitions(config.ALLOCATION_QUEUE, config.JOB_RETRY_DELAYS_MS, config.ALLOCATION_PARTITIONS, quorumQueuesOf(config).quorum);
  // confirmed ids in confirm order, each with when it was confirmed
  let pending: { id: string; confirmedAt: number }[] = [];
  let ticker: NodeJS.Timeout | null = null;
  let marking: Promise<void> = Promise.resolve();
  const markDelayMs = Math.min(MARK_DELAY_MS, config.ALLOCATION_RELAY_AFTER_MS / 2);

  /** Marks the ids confirmed at least markDelayMs ago (all of them when `all`), after the marks before. */
  const markDue = (all: boolean): Promise<void> => {
    const cutoff = all ? Infinity : performance.now() - markDelayMs;
    const fresh = pending.findIndex((entry) => entry.confirmedAt > cutoff);
    const due = (fresh === -1 ? pending : pending.slice(0, fresh)).map((entry) => entry.id);
    pending = fresh === -1 ? [] : pending.slice(fresh);
    if (pending.length === 0 && ticker) {
      clearInterval(ticker);
      ticker = null;
    }
    if (due.length === 0) return marking;
    marking = marking
      .then(() => markPublished(pool, due))
      .catch((error: unknown) => log.warn({ err: error, count: due.length }, 'could not mark jobs published; the relay will publish them again'));
    return marking;
  };

  const publish = async (jobs: readonly JobToPublish[]): Promise<string[]> => {
    if (!publisher || jobs.length === 0) return [];
    const outcomes = await Promise.allSettled(
      jobs.map((job) =>
        publisher.publish(
          workQueueFor(partitions[partitionOf(job.productIds, partitions.length)]!, job.priority),
          jobMessage(job.id),
          { messageId: job.id, priority: brokerPriority(job.priority) },
          config.PUBLISH_CONFIRM_TIMEOUT_MS,
        ),
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
      const confirmedAt = performance.now();
      for (const id of confirmed) pending.push({ id, confirmedAt });
      if (!ticker) {
        ticker = setInterval(() => void markDue(false), MARK_TICK_MS);
        ticker.unref();
      }
      return confirmed;
    },
    close: () => markDue(true),
  };
}

/** A process's way to publish jobs: the allocation queues kept declared, its publisher, and a dispatcher on them. */
export type JobPublishing = { dispatcher: AllocationDispatcher; publisher: Publisher | null; close(): Promise<void> };

/**
 * Declares the allocation queues (now and after every reconnect), opens the process's publisher and
 * a dispatcher on it. A returned job means its queue is gone: the queues are declared again, and
 * the relay sends the job once they are back. Without a broker client (`amqp` null) nothing is
 * published and accepted jobs wait for the relay.
 */
export async function openJobPublishing(deps: { pool: Pool; config: Config; logger: Logger; amqp: AmqpClient | null }): Promise<JobPublishing> {
  const { pool, config, logger, amqp } = deps;
  const kept = amqp ? await keepAllocationTopology(amqp, allocationQueuesOf(config), logger) : null;
  const publisher = amqp ? await createPublisher(amqp, logger, { onReturned: () => kept?.redeclare() }) : null;
  const dispatcher = createAllocationDispatcher(pool, publisher, config, logger);
  return {
    dispatcher,
    publisher,
    async close() {
      await dispatcher.close();
      await publisher?.close();
    },
  };
}
