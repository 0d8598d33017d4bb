import type { Channel, ChannelModel } from 'amqplib';
import type { Logger } from '../logger';
import { allocationTopology, declareBoundedDeadQueue, quorumArguments, type AllocationTopology, type DeadQueueBounds, type QuorumQueues } from './topology';

/** The durable topic exchange Stockroom publishes its events to. */
export async function declareEventsExchange(channel: Channel, exchange: string): Promise<void> {
  await channel.assertExchange(exchange, 'topic', { durable: true });
}

/** Where an event consumer reads, waits between tries and dead-letters: the allocation queue's layout. */
export type ConsumerTopology = AllocationTopology & { exchange: string; routingKeys: readonly string[] };

/**
 * The queues of a consumer of another service's topic exchange: `queue`, `queue.retry.<delay>ms`,
 * `queue.dead`; as quorum queues (AMQP_CLUSTER=quorum) the same under `queue.quorum`, so they never
 * clash with the classic ones.
 */
export function consumerTopology(
  queue: string,
  retryDelaysMs: readonly number[],
  source: { exchange: string; routingKeys: readonly string[] },
  quorum?: QuorumQueues,
): ConsumerTopology {
  if (quorum) return { ...allocationTopology(`${queue}.quorum`, retryDelaysMs), quorum, ...source };
  return { ...allocationTopology(queue, retryDelaysMs), ...source };
}

/**
 * Declares (idempotently, on every connect) the source exchange, the durable queue bound to it with
 * each routing key, its retry queues (a queue-wide TTL sends each message back to the queue after
 * the delay) and its dead-letter queue (also where the broker puts anything the queue rejects),
 * bounded like the allocation queue's (declareDeadQueue); as quorum queues when `topology.quorum`.
 */
export async function declareConsumerTopology(model: ChannelModel, topology: ConsumerTopology, bounds: DeadQueueBounds, log: Logger): Promise<void> {
  const quorum = topology.quorum;
  await declareBoundedDeadQueue(model, topology.dead, bounds, log, quorum !== undefined);
  const channel = await model.createChannel();
  // a failed declaration closes only this channel; the error surfaces through the rejected promise
  channel.on('error', () => {});
  const queueType = quorum ? quorumArguments() : {};
  try {
    await channel.assertExchange(topology.exchange, 'topic', { durable: true });
    await channel.assertQueue(topology.work, {
      durable: true,
      arguments: {
        ...queueType,
        ...(quorum ? { 'x-delivery-limit': quorum.deliveryLimit } : {}),
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': topology.dead,
      },
    });
    for (const retry of topology.retries) {
      await channel.assertQueue(retry.queue, {
        durable: true,
        arguments: { ...queueType, 'x-message-ttl': retry.delayMs, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': topology.work },
      });
    }
    for (const routingKey of topology.routingKeys) await channel.bindQueue(topology.work, topology.exchange, routingKey);
  } finally {
    await channel.close().catch(() => {});
  }
}
