import type { Channel, ChannelModel, MessagePropertyHeaders } from 'amqplib';
import { priorities, type Priority } from '../domain/priority';
import type { Logger } from '../logger';
import type { AmqpClient } from './connection';

/**
 * The allocation queue's broker levels, the one place a priority is a number. SPEC §5 weighs the
 * priorities critical 20, high 10, medium 5, low 1 (the order the queue serves them); RabbitMQ keeps
 * one sub-queue per level and recommends few of them, so the broker gets that order as levels 1..4.
 */
export const MAX_PRIORITY = 4;

const brokerLevel: Record<Priority, number> = { low: 1, medium: 2, high: 3, critical: 4 };

/** The AMQP priority property for a request priority. */
export function brokerPriority(priority: Priority): number {
  return brokerLevel[priority];
}

/** Our own count of failed attempts; x-* headers belong to the broker (RabbitMQ 3.13+ ignores them from clients). */
export const ATTEMPTS_HEADER = 'stockroom-attempts';
export const FIRST_ERROR_HEADER = 'stockroom-first-error';
export const LAST_ERROR_HEADER = 'stockroom-last-error';

/**
 * Quorum queues (AMQP_CLUSTER=quorum): replicated over the nodes of a cluster, a message is
 * delivered at most `deliveryLimit` + 1 times (its `x-delivery-count` header counts the earlier
 * deliveries that came back unsettled).
 */
export type QuorumQueues = { deliveryLimit: number };

/** A retry queue: messages wait `delayMs` in it, then go back to be served again. */
export type RetryQueue = {
  queue: string;
  delayMs: number;
  /**
   * Quorum topologies: the fanout exchange copies are published to, with the work queue they go
   * back to as routing key (the retry queue keeps that key, so one retry queue serves every
   * priority level's queue). Without one, a copy is sent to the queue itself and goes back to `work`.
   */
  exchange?: string;
};

/** Names of the allocation queues, all derived from ALLOCATION_QUEUE. */
export type AllocationTopology = {
  /** The work queue: where messages wait to be served (for quorum queues, the highest priority level's queue). */
  work: string;
  /**
   * Quorum topologies of the allocation queue: quorum queues have no priorities, so each priority
   * has its own work queue, listed highest first (`work` is the first). A classic work queue is a
   * priority queue serving every level itself.
   */
  levels?: readonly { priority: Priority; queue: string }[];
  /** One queue per retry delay, in the order of JOB_RETRY_DELAYS_MS. */
  retries: RetryQueue[];
  dead: string;
  /** Set when the queues are quorum queues. */
  quorum?: QuorumQueues;
};

/** The work queues a consumer of the topology drains, highest priority first. */
export function workQueues(topology: AllocationTopology): string[] {
  return topology.levels ? topology.levels.map((level) => level.queue) : [topology.work];
}

/** The work queue a message of the given priority is published to. */
export function workQueueFor(topology: AllocationTopology, priority: Priority): string {
  return topology.levels?.find((level) => level.priority === priority)?.queue ?? topology.work;
}

/** The queue names for a work queue and its retry delays; a delay's queue carries it in its name, so changing delays never clashes with a declared TTL. */
export function allocationTopology(workQueue: string, retryDelaysMs: readonly number[]): AllocationTopology {
  return {
    work: workQueue,
    retries: [...new Set(retryDelaysMs)].map((delayMs) => ({ queue: `${workQueue}.retry.${delayMs}ms`, delayMs })),
    dead: `${workQueue}.dead`,
  };
}

/** The retry queue to wait in after the given number of failed attempts (1 → the first delay). */
export function retryQueueFor(topology: AllocationTopology, retryDelaysMs: readonly number[], failures: number): RetryQueue {
  const delay = retryDelaysMs[Math.min(failures, retryDelaysMs.length) - 1]!;
  return topology.retries.find((retry) => retry.delayMs === delay)!;
}

/**
 * The arguments every quorum queue of Stockroom is declared with. Dead-lettering (a retry queue's
 * expiry back to work, a rejected message to the dead-letter queue) is at-least-once, which the
 * broker allows only with `reject-publish` overflow: a message is removed only once its target
 * queue confirmed the copy, so a leader election on the way loses nothing.
 */
export function quorumArguments(): Record<string, unknown> {
  return { 'x-queue-type': 'quorum', 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' };
}

/** How long, and how many, broker copies a dead-letter queue keeps: the dead_letters table is the record operators work from. */
export type DeadQueueBounds = { ttlMs: number; maxLength: number };

/** The dead-letter queue bounds configured (DEAD_LETTER_QUEUE_TTL_MS, DEAD_LETTER_QUEUE_MAX_LENGTH). */
export function deadQueueBounds(config: { DEAD_LETTER_QUEUE_TTL_MS: number; DEAD_LETTER_QUEUE_MAX_LENGTH: number }): DeadQueueBounds {
  return { ttlMs: config.DEAD_LETTER_QUEUE_TTL_MS, maxLength: config.DEAD_LETTER_QUEUE_MAX_LENGTH };
}

/** AMQP's reply code when a queue exists with other arguments than those declared. */
const PRECONDITION_FAILED = 406;

/**
 * Declares a dead-letter queue whose copies expire after `ttlMs` and of which at most `maxLength`
 * are kept (the oldest dropped first), so after `dlq purge` or `dlq replay` the broker's copies
 * drain by themselves and its depth never disagrees with the table for long. RabbitMQ refuses to
 * change the arguments of an existing queue (PRECONDITION_FAILED): a queue declared before, without
 * these bounds or with others, is then only checked to exist, kept as it is, and the answer is
 * `kept` — bound it with a policy, or delete it to have it declared again (docs/operations.md).
 */
export async function declareDeadQueue(model: ChannelModel, queue: string, bounds: DeadQueueBounds, quorum = false): Promise<'declared' | 'kept'> {
  const channel = await model.createChannel();
  // a refused declaration closes only this channel; the error surfaces through the rejected promise
  channel.on('error', () => {});
  try {
    await channel.assertQueue(queue, {
      durable: true,
      // a quorum dead-letter queue drops its oldest copies when full (drop-head, the default overflow)
      arguments: { 'x-message-ttl': bounds.ttlMs, 'x-max-length': bounds.maxLength, ...(quorum ? { 'x-queue-type': 'quorum' } : {}) },
    });
    await channel.close().catch(() => {});
    return 'declared';
  } catch (error) {
    if ((error as { code?: unknown }).code !== PRECONDITION_FAILED) throw error;
  }
  const check = await model.createChannel();
  check.on('error', () => {});
  try {
    await check.checkQueue(queue);
    return 'kept';
  } finally {
    await check.close().catch(() => {});
  }
}

/** Declares a topology's dead-letter queue and logs, at warn, when an earlier declaration without the bounds stays in force. */
export async function declareBoundedDeadQueue(model: ChannelModel, queue: string, bounds: DeadQueueBounds, log: Logger, quorum = false): Promise<void> {
  if ((await declareDeadQueue(model, queue, bounds, quorum)) === 'kept') {
    log.warn(
      { queue, ...bounds },
      'the dead-letter queue exists with other arguments and keeps them; bound it with a policy or delete it (docs/operations.md, dead-letter queue bounds)',
    );
  }
}

/**
 * The allocation queues of each of `partitions` partitions (ALLOCATION_PARTITIONS): partition i
 * works from `<queue>.p<i>` with retry queues of its own, all sharing `<queue>.dead`. One partition
 * keeps the plain names (`<queue>`), those of a deployment that never partitioned.
 */
export function allocationPartitions(workQueue: string, retryDelaysMs: readonly number[], partitions: number, quorum?: QuorumQueues): AllocationTopology[] {
  if (quorum) return quorumAllocationPartitions(workQueue, retryDelaysMs, partitions, quorum);
  if (partitions <= 1) return [allocationTopology(workQueue, retryDelaysMs)];
  return Array.from({ length: partitions }, (_, index) => ({ ...allocationTopology(`${workQueue}.p${index}`, retryDelaysMs), dead: `${workQueue}.dead` }));
}

/**
 * The quorum queues of each partition (AMQP_CLUSTER=quorum), all under `<queue>.quorum` so they
 * never clash with the classic queues of the same names: partition i works from one queue per
 * priority, `<queue>.quorum.p<i>.<priority>` (p0 also when unpartitioned); every partition shares
 * the retry queues `<queue>.quorum.retry.<delay>ms` (each fed by a fanout exchange of its name)
 * and the dead-letter queue `<queue>.quorum.dead`.
 */
function quorumAllocationPartitions(workQueue: string, retryDelaysMs: readonly number[], partitions: number, quorum: QuorumQueues): AllocationTopology[] {
  const base = `${workQueue}.quorum`;
  const retries = [...new Set(retryDelaysMs)].map((delayMs) => ({ queue: `${base}.retry.${delayMs}ms`, delayMs, exchange: `${base}.retry.${delayMs}ms` }));
  return Array.from({ length: Math.max(1, partitions) }, (_, index) => {
    const levels = [...priorities].reverse().map((priority) => ({ priority, queue: `${base}.p${index}.${priority}` }));
    return { work: levels[0]!.queue, levels, retries, dead: `${base}.dead`, quorum };
  });
}

/**
 * Declares the allocation queues; safe to run on every connect, by any number of processes.
 * - work: durable classic priority queue; messages rejected from it (never requeued) go to `dead`.
 *   A partition's work queue has a single active consumer (`x-single-active-consumer`): the broker
 *   delivers to one consumer at a time and hands the queue to the next one waiting when it goes.
 * - retries: no consumers; a queue-wide TTL dead-letters each message back to `work` after the
 *   delay. Queue-wide, not per message: expiry only happens at a queue's head, so one fixed delay
 *   per queue keeps every message expiring on time.
 * - dead: the broker's copy of every dead-lettered message, bounded in age and number (see
 *   declareDeadQueue); operators work from the dead_letters table.
 * A quorum topology (`topology.quorum`) declares quorum queues instead: see declareQuorumWork.
 */
export async function declareAllocationTopology(
  model: ChannelModel,
  topology: AllocationTopology,
  bounds: DeadQueueBounds,
  log: Logger,
  options: { singleActiveConsumer?: boolean } = {},
): Promise<void> {
  await declareBoundedDeadQueue(model, topology.dead, bounds, log, topology.quorum !== undefined);
  const channel: Channel = await model.createChannel();
  // a failed declaration closes only this channel; the error surfaces through the rejected promise
  channel.on('error', () => {});
  try {
    if (topology.quorum) {
      await declareQuorumWork(channel, topology, topology.quorum, options);
      return;
    }
    await channel.assertQueue(topology.work, {
      durable: true,
      arguments: {
        'x-max-priority': MAX_PRIORITY,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': topology.dead,
        ...(options.singleActiveConsumer ? { 'x-single-active-consumer': true } : {}),
      },
    });
    for (const retry of topology.retries) {
      await channel.assertQueue(retry.queue, {
        durable: true,
        arguments: { 'x-message-ttl': retry.delayMs, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': topology.work },
      });
    }
  } finally {
    await channel.close().catch(() => {});
  }
}

/**
 * The quorum queues of an allocation partition: one work queue per priority level, each with the
 * delivery limit and (partitioned) a single active consumer, and the shared retry queues, each
 * bound to its fanout exchange and returning a copy, after its delay, to the queue its routing key
 * names (no x-dead-letter-routing-key: the copy keeps its own).
 */
async function declareQuorumWork(
  channel: Channel,
  topology: AllocationTopology,
  quorum: QuorumQueues,
  options: { singleActiveConsumer?: boolean },
): Promise<void> {
  for (const queue of workQueues(topology)) {
    await channel.assertQueue(queue, {
      durable: true,
      arguments: {
        ...quorumArguments(),
        'x-delivery-limit': quorum.deliveryLimit,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': topology.dead,
        ...(options.singleActiveConsumer ? { 'x-single-active-consumer': true } : {}),
      },
    });
  }
  for (const retry of topology.retries) {
    await channel.assertExchange(retry.exchange!, 'fanout', { durable: true });
    await channel.assertQueue(retry.queue, {
      durable: true,
      arguments: { ...quorumArguments(), 'x-message-ttl': retry.delayMs, 'x-dead-letter-exchange': '' },
    });
    await channel.bindQueue(retry.queue, retry.exchange!, '');
  }
}

type DeathRecord = { queue?: unknown; reason?: unknown; count?: unknown };

/**
 * Failed attempts a message has behind it: our own header, or, for a copy that lost it, how many
 * times a retry queue expired it back (the broker's x-death record).
 */
export function attemptsOf(headers: MessagePropertyHeaders | undefined, topology: AllocationTopology): number {
  const own = Number(headers?.[ATTEMPTS_HEADER] ?? 0);
  const retryQueues = new Set(topology.retries.map((retry) => retry.queue));
  const deaths = Array.isArray(headers?.['x-death']) ? (headers['x-death'] as DeathRecord[]) : [];
  const expired = deaths
    .filter((death) => death.reason === 'expired' && typeof death.queue === 'string' && retryQueues.has(death.queue))
    .reduce((sum, death) => sum + (Number(death.count) || 0), 0);
  return Math.max(Number.isFinite(own) ? own : 0, expired);
}

/** The allocation queues as a process keeps them declared. */
export type KeptAllocationTopology = {
  /** The queues of each partition, by partition number. */
  partitions: AllocationTopology[];
  /** Declares the queues again now (a declaration already under way covers this call): for a queue the broker lost. */
  redeclare(): void;
};

/** Where the allocation queues are: ALLOCATION_QUEUE, JOB_RETRY_DELAYS_MS, ALLOCATION_PARTITIONS, the dead-letter queue's bounds and, with AMQP_CLUSTER=quorum, the delivery limit. */
export type AllocationQueues = { queue: string; retryDelaysMs: readonly number[]; partitions: number; deadBounds: DeadQueueBounds; quorum?: QuorumQueues };

/** Declares the allocation queues of every partition now and after every reconnect, before any channel of the caller opens. */
export async function keepAllocationTopology(amqp: AmqpClient, queues: AllocationQueues, log: Logger): Promise<KeptAllocationTopology> {
  const partitions = allocationPartitions(queues.queue, queues.retryDelaysMs, queues.partitions, queues.quorum);
  const singleActiveConsumer = partitions.length > 1;
  const declareAll = async (model: ChannelModel): Promise<void> => {
    for (const topology of partitions) await declareAllocationTopology(model, topology, queues.deadBounds, log, { singleActiveConsumer });
  };
  await amqp.onConnect(declareAll);
  let declaring: Promise<void> | null = null;
  return {
    partitions,
    redeclare() {
      declaring ??= amqp
        .runNow(declareAll)
        .then(() => log.info({ queue: queues.queue, partitions: partitions.length }, 'declared the allocation queues again'))
        .catch((error: unknown) => log.warn({ err: error }, 'could not declare the allocation queues again'))
        .finally(() => (declaring = null));
    },
  };
}

/** The allocation queues named by a configuration. */
export function allocationQueuesOf(config: {
  ALLOCATION_QUEUE: string;
  JOB_RETRY_DELAYS_MS: readonly number[];
  ALLOCATION_PARTITIONS: number;
  DEAD_LETTER_QUEUE_TTL_MS: number;
  DEAD_LETTER_QUEUE_MAX_LENGTH: number;
  AMQP_CLUSTER: 'classic' | 'quorum';
  ALLOCATION_DELIVERY_LIMIT: number;
}): AllocationQueues {
  return {
    queue: config.ALLOCATION_QUEUE,
    retryDelaysMs: config.JOB_RETRY_DELAYS_MS,
    partitions: config.ALLOCATION_PARTITIONS,
    deadBounds: deadQueueBounds(config),
    ...quorumQueuesOf(config),
  };
}

/** The quorum settings of a configuration: none unless AMQP_CLUSTER=quorum. */
export function quorumQueuesOf(config: { AMQP_CLUSTER: 'classic' | 'quorum'; ALLOCATION_DELIVERY_LIMIT: number }): { quorum?: QuorumQueues } {
  return config.AMQP_CLUSTER === 'quorum' ? { quorum: { deliveryLimit: config.ALLOCATION_DELIVERY_LIMIT } } : {};
}
