import type { Channel, ConsumeMessage } from 'amqplib';
import type { Logger } from '../logger';
import { keepChannel } from './channels';
import type { AmqpClient } from './connection';

/** One received message and the only two ways to settle it: never a requeue. */
export type Delivery = {
  message: ConsumeMessage;
  /** Acknowledges; a no-op when its channel is gone (the broker then redelivers it). */
  ack(): void;
  /** Rejects without requeue: the broker dead-letters it to the queue's dead-letter queue. */
  reject(): void;
};

export type BatchConsumerOptions = {
  queue: string;
  /** Unacknowledged messages the broker may hand this consumer (basic.qos). */
  prefetch: number;
  batchSize: number;
  batchWaitMs: number;
};

export type BatchConsumer = {
  /** Cancels the consumer, serves what was already received, waits for in-flight batches, closes the channel. */
  stop(): Promise<void>;
};

function settle(log: Logger, action: () => void): void {
  try {
    action();
  } catch (error) {
    // the channel closed under us; the broker requeues what it had not seen settled
    log.debug({ err: error }, 'could not settle a delivery on a closed channel');
  }
}

/**
 * Consumes a queue in batches: deliveries gather until `batchSize` of them arrived or `batchWaitMs`
 * passed since the first, then `handle` gets them together. Batches run concurrently up to the
 * prefetch. The channel is reopened and the consumer restarted after every reconnect. `handle`
 * settles each delivery; if it throws, its channel is closed so the broker redelivers them.
 */
export async function consumeInBatches(
  amqp: AmqpClient,
  logger: Logger,
  options: BatchConsumerOptions,
  handle: (batch: Delivery[]) => Promise<void>,
): Promise<BatchConsumer> {
  const log = logger.child({ component: 'consumer', queue: options.queue });
  const consumerTags = new WeakMap<Channel, string>();
  let buffer: Delivery[] = [];
  let timer: NodeJS.Timeout | null = null;
  const inFlight = new Set<Promise<void>>();
  let stopping = false;

  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
    const batch = buffer;
    buffer = [];
    if (batch.length === 0) return;
    const run = handle(batch)
      .catch((error: unknown) => {
        log.error({ err: error, size: batch.length }, 'batch handler failed; closing its channel so the broker redelivers');
        const channels = new Set(batch.map((delivery) => (delivery as DeliveryOn).channel));
        for (const channel of channels) channel.close().catch(() => {});
      })
      .finally(() => inFlight.delete(run));
    inFlight.add(run);
  };

  type DeliveryOn = Delivery & { channel: Channel };
  const receive = (channel: Channel, message: ConsumeMessage | null): void => {
    if (message === null) {
      // the broker cancelled the consumer (queue deleted): a new channel consumes again after redeclaring
      log.warn('consumer cancelled by the broker; reopening the channel');
      channel.close().catch(() => {});
      return;
    }
    const delivery: DeliveryOn = {
      channel,
      message,
      ack: () => settle(log, () => channel.ack(message)),
      reject: () => settle(log, () => channel.nack(message, false, false)),
    };
    buffer.push(delivery);
    if (buffer.length >= options.batchSize) flush();
    else timer ??= setTimeout(flush, options.batchWaitMs);
  };

  const kept = await keepChannel<Channel>(
    amqp,
    log,
    (model) => model.createChannel(),
    async (channel) => {
      // deliveries of a channel that died are void: the broker hands them out again
      channel.on('close', () => {
        buffer = buffer.filter((delivery) => (delivery as DeliveryOn).channel !== channel);
      });
      await channel.prefetch(options.prefetch);
      if (stopping) return;
      const { consumerTag } = await channel.consume(options.queue, (message) => receive(channel, message), { noAck: false });
      consumerTags.set(channel, consumerTag);
    },
  );

  return {
    async stop() {
      stopping = true;
      const channel = kept.current();
      const tag = channel ? consumerTags.get(channel) : undefined;
      if (channel && tag) await channel.cancel(tag).catch((error: unknown) => log.warn({ err: error }, 'could not cancel the consumer'));
      flush();
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      await kept.close();
    },
  };
}
