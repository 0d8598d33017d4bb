import type { Channel } from 'amqplib';

/** The durable topic exchange Stockroom publishes its events to. */
export async function declareEventsExchange(channel: Channel, exchange: string): Promise<void> {
  await channel.assertExchange(exchange, 'topic', { durable: true });
}

/** Where a consumer reads from, retries and dead-letters: all derived from the queue name. */
export type ConsumerTopology = {
  queue: string;
  exchange: string;
  routingKeys: readonly string[];
  /** one delay queue per retry, expired messages return to `queue` */
  retryQueues: readonly string[];
  deadLetterQueue: string;
};

/** The queues of one consumer of another service's topic exchange; `retries` delay queues. */
export function consumerTopology(queue: string, exchange: string, routingKeys: readonly string[], retries: number): ConsumerTopology {
  return {
    queue,
    exchange,
    routingKeys,
    retryQueues: Array.from({ length: retries }, (_, index) => `${queue}.retry-${index + 1}`),
    deadLetterQueue: `${queue}.dead-letter`,
  };
}

/**
 * Declares (idempotently) the source exchange, the durable queue bound to it, its delay queues
 * (a message published there with an expiration comes back to the queue when it expires) and its
 * dead-letter queue (also the queue's own dead-letter target, for anything the broker rejects).
 */
export async function declareConsumerTopology(channel: Channel, topology: ConsumerTopology): Promise<void> {
  await channel.assertExchange(topology.exchange, 'topic', { durable: true });
  await channel.assertQueue(topology.deadLetterQueue, { durable: true });
  await channel.assertQueue(topology.queue, {
    durable: true,
    arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': topology.deadLetterQueue },
  });
  for (const retryQueue of topology.retryQueues) {
    await channel.assertQueue(retryQueue, {
      durable: true,
      arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': topology.queue },
    });
  }
  for (const routingKey of topology.routingKeys) await channel.bindQueue(topology.queue, topology.exchange, routingKey);
}
