import type { Context } from '@opentelemetry/api';
import type { Channel, ConsumeMessage } from 'amqplib';
import type { Logger } from '../logger';
import { receivedTraceContext } from '../tracing/trace-context';
import { keepChannel } from './channels';
import type { AmqpClient } from './connection';

/** One received message and the only two ways to settle it: never a requeue. */
export type Delivery = {
  message: ConsumeMessage;
  /** The queue it was consumed from. */
  queue: string;
  /**
   * The trace context its handling continues (undefined when tracing is off): the one the message
   * carried, until its handler starts a span of its own for it (the allocation worker's job span);
   * its retry and dead-letter copies carry this one on.
   */
  trace: Context | undefined;
  /** Acknowledges; a no-op when its channel is gone (the broker then redelivers it). */
  ack(): void;
  /** Rejects without requeue: the broker dead-letters it to the queue's dead-letter queue. */
  reject(): void;
};

export type BatchConsumerOptions = {
  /**
   * The queues consumed, on one channel, highest priority first: a batch takes the deliveries of
   * an earlier queue before those of a later one (quorum queues have no priorities: one per level).
   */
  queues: readonly string[];
  /** Unacknowledged messages the broker may hand each queue's consumer (basic.qos). */
  prefetch: number;
  batchSize: number;
  batchWaitMs: number;
  /** Called when the broker cancels the consumer (its queue was deleted): e.g. to declare the queues again before the channel reopens. */
  onCancelled?: () => void;
};

export type BatchConsumer = {
  /** Cancels the consumer, serves what was already received, waits for in-flight batches, closes the channel. */
  stop(): Promise<void>;
};

/**
 * A delivery with the channel it came on and that channel's unsettled delivery tags (in arrival
 * order, which is tag order); ackUpTo acks it and every earlier unsettled delivery of the channel.
 */
type TrackedDelivery = Delivery & { channel: Channel; unsettled: Set<number>; ackUpTo(): void };

/**
 * Acknowledges deliveries of consumeInBatches together: per channel, one multiple-ack covers the
 * deliveries when they are exactly that channel's oldest unsettled ones (the usual case for a whole
 * batch), so the broker gets one frame instead of one per message; otherwise each is acked alone.
 */
export function ackAll(deliveries: readonly Delivery[]): void {
  const byChannel = new Map<Channel, TrackedDelivery[]>();
  for (const delivery of deliveries as readonly TrackedDelivery[]) {
    const group = byChannel.get(delivery.channel);
    if (group) group.push(delivery);
    else byChannel.set(delivery.channel, [delivery]);
  }
  for (const group of byChannel.values()) {
    const tags = new Set(group.map((delivery) => delivery.message.fields.deliveryTag));
    const last = group.reduce((latest, delivery) => (delivery.message.fields.deliveryTag > latest.message.fields.deliveryTag ? delivery : latest));
    const lastTag = last.message.fields.deliveryTag;
    let covered = 0;
    let contiguous = true;
    for (const tag of last.unsettled) {
      if (tag > lastTag) break;
      if (!tags.has(tag)) {
        contiguous = false;
        break;
      }
      covered++;
    }
    if (contiguous && covered === tags.size) last.ackUpTo();
    else for (const delivery of group) delivery.ack();
  }
}

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
 * passed since the first, then `handle` gets them together. At most prefetch / batchSize - 1
 * batches (at least one) run at once, so one batch's worth of prefetch keeps arriving while they
 * run: under load the next batch is full instead of many small ones queueing on the same lot
 * locks. The channel is reopened and the consumer restarted after every reconnect. `handle`
 * settles each delivery; if it throws, its channel is closed so the broker redelivers them.
 * Several queues are consumed in the order given (the highest level's consumer starts first, so
 * its backlog arrives first) and each batch is assembled highest queue first.
 */
export async function consumeInBatches(
  amqp: AmqpClient,
  logger: Logger,
  options: BatchConsumerOptions,
  handle: (batch: Delivery[]) => Promise<void>,
): Promise<BatchConsumer> {
  const log = logger.child({ component: 'consumer', queue: options.queues.join(',') });
  const rank = new Map(options.queues.map((queue, index) => [queue, index]));
  const consumerTags = new WeakMap<Channel, string[]>();
  const unsettledOf = new WeakMap<Channel, Set<number>>();
  let buffer: Delivery[] = [];
  let timer: NodeJS.Timeout | null = null;
  const inFlight = new Set<Promise<void>>();
  let stopping = false;

  const maxInFlight = Math.max(1, Math.floor(options.prefetch / options.batchSize) - 1);

  // Starts batches while there is room; deliveries left over wait for the next batch to end, which
  // flushes again (they have waited at least that long already).
  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
    // stable: within a queue, deliveries keep their order
    if (rank.size > 1) buffer.sort((a, b) => rank.get(a.queue)! - rank.get(b.queue)!);
    while (buffer.length > 0 && inFlight.size < maxInFlight) {
      const batch = buffer.splice(0, options.batchSize);
      const run: Promise<void> = handle(batch)
        .catch((error: unknown) => {
          log.error({ err: error, size: batch.length }, 'batch handler failed; closing its channel so the broker redelivers');
          const channels = new Set(batch.map((delivery) => (delivery as TrackedDelivery).channel));
          for (const channel of channels) channel.close().catch(() => {});
        })
        .finally(() => {
          inFlight.delete(run);
          flush();
        });
      inFlight.add(run);
    }
  };

  const receive = (channel: Channel, queue: string, message: ConsumeMessage | null): void => {
    if (message === null) {
      // the broker cancelled the consumer (queue deleted): a new channel consumes again after redeclaring
      log.warn('consumer cancelled by the broker; declaring the queues again and reopening the channel');
      options.onCancelled?.();
      channel.close().catch(() => {});
      return;
    }
    const unsettled = unsettledOf.get(channel)!;
    const tag = message.fields.deliveryTag;
    unsettled.add(tag);
    const delivery: TrackedDelivery = {
      channel,
      unsettled,
      message,
      queue,
      trace: receivedTraceContext(message.properties.headers),
      ack: () => {
        unsettled.delete(tag);
        settle(log, () => channel.ack(message));
      },
      reject: () => {
        unsettled.delete(tag);
        settle(log, () => channel.nack(message, false, false));
      },
      ackUpTo: () => {
        for (const earlier of unsettled) {
          if (earlier > tag) break;
          unsettled.delete(earlier);
        }
        settle(log, () => channel.ack(message, true));
      },
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
        buffer = buffer.filter((delivery) => (delivery as TrackedDelivery).channel !== channel);
      });
      unsettledOf.set(channel, new Set());
      await channel.prefetch(options.prefetch);
      const tags: string[] = [];
      consumerTags.set(channel, tags);
      for (const queue of options.queues) {
        if (stopping) return;
        const { consumerTag } = await channel.consume(queue, (message) => receive(channel, queue, message), { noAck: false });
        tags.push(consumerTag);
      }
    },
  );

  return {
    async stop() {
      stopping = true;
      const channel = kept.current();
      for (const tag of (channel && consumerTags.get(channel)) ?? []) {
        await channel!.cancel(tag).catch((error: unknown) => log.warn({ err: error }, 'could not cancel the consumer'));
      }
      flush();
      while (inFlight.size > 0 || buffer.length > 0) {
        flush();
        await Promise.allSettled([...inFlight]);
      }
      await kept.close();
    },
  };
}
