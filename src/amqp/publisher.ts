import type { ConfirmChannel, Message, MessagePropertyHeaders } from 'amqplib';
import type { Logger } from '../logger';
import { unroutablePublishes } from '../metrics';
import { withTraceHeaders } from '../tracing/trace-context';
import { keepChannel } from './channels';
import type { AmqpClient } from './connection';

export type PublishOptions = {
  messageId: string;
  priority?: number;
  headers?: MessagePropertyHeaders;
  /** Publishes through this exchange, the queue's name as routing key, instead of straight to the queue (a quorum retry exchange). */
  exchange?: string;
};

/** Persistent publishing with publisher confirms on one confirm channel per process. */
export type Publisher = {
  /**
   * Publishes to a queue through the default exchange (or `options.exchange`) and resolves once the
   * broker confirmed the message; rejects at once while the broker is away, and after `timeoutMs` without a confirm.
   */
  publish(queue: string, body: Buffer, options: PublishOptions, timeoutMs: number): Promise<void>;
  isReady(): boolean;
  close(): Promise<void>;
};

/** Thrown when a message could not be handed to the broker; the caller keeps it for later. */
export class PublishError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PublishError';
  }
}

/** What a publisher does besides publishing. */
export type PublisherOptions = {
  /** Called with the routing key of each message the broker returned as unroutable (its queue is gone): e.g. to declare the topology again. */
  onReturned?: (routingKey: string) => void;
};

/**
 * Opens the process's confirm channel now and after every reconnect. Every message is published
 * `mandatory`: one no queue takes (its queue was deleted, say) comes back with basic.return before
 * its confirm, and its publish rejects instead of resolving, so the caller keeps the message (an
 * accepted job stays unpublished and the relay sends it again). Each return is counted in
 * stockroom_unroutable_publishes_total and logged at warn.
 */
export async function createPublisher(amqp: AmqpClient, logger: Logger, options: PublisherOptions = {}): Promise<Publisher> {
  const log = logger.child({ component: 'publisher' });
  // per channel: message ids the broker returned whose confirm has not arrived yet (the return always comes first)
  const returnedOn = new WeakMap<ConfirmChannel, Map<string, number>>();
  const kept = await keepChannel<ConfirmChannel>(
    amqp,
    log,
    (model) => model.createConfirmChannel(),
    (channel) => {
      const returned = new Map<string, number>();
      returnedOn.set(channel, returned);
      channel.on('return', (message: Message) => {
        const { routingKey, replyText } = message.fields as Message['fields'] & { replyText?: string };
        const messageId = String(message.properties.messageId);
        returned.set(messageId, (returned.get(messageId) ?? 0) + 1);
        unroutablePublishes.inc({ queue: routingKey });
        log.warn({ routingKey, messageId, reply: replyText }, 'RabbitMQ returned a message no queue took; it stays unpublished');
        options.onReturned?.(routingKey);
      });
      return Promise.resolve();
    },
  );

  /** True, once, when the broker returned this message before confirming it. */
  const takeReturned = (channel: ConfirmChannel, messageId: string): boolean => {
    const returned = returnedOn.get(channel);
    const count = returned?.get(messageId) ?? 0;
    if (count === 0) return false;
    if (count === 1) returned!.delete(messageId);
    else returned!.set(messageId, count - 1);
    return true;
  };

  return {
    isReady: () => kept.current() !== null,
    close: () => kept.close(),
    publish(queue, body, publishOptions, timeoutMs) {
      const channel = kept.current();
      if (!channel) return Promise.reject(new PublishError('RabbitMQ is unavailable'));
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new PublishError(`no confirm from RabbitMQ within ${timeoutMs} ms`)), timeoutMs);
        timer.unref();
        try {
          channel.publish(
            publishOptions.exchange ?? '',
            queue,
            body,
            {
              persistent: true,
              mandatory: true,
              contentType: 'application/json',
              messageId: publishOptions.messageId,
              // the broker refuses a user_id other than the connection's: consumers can tell Stockroom's own copies (retries, replays)
              userId: amqp.user,
              priority: publishOptions.priority,
              // the active trace context goes along, so the consumer's spans continue this trace
              headers: withTraceHeaders(publishOptions.headers),
              timestamp: Math.floor(Date.now() / 1000),
            },
            (error: unknown) => {
              clearTimeout(timer);
              if (error) reject(new PublishError('RabbitMQ did not accept the message', { cause: error }));
              else if (takeReturned(channel, publishOptions.messageId)) reject(new PublishError(`RabbitMQ returned the message: no queue ${queue}`));
              else resolve();
            },
          );
        } catch (error) {
          // the channel closed between current() and the send
          clearTimeout(timer);
          reject(new PublishError('RabbitMQ is unavailable', { cause: error }));
        }
      });
    },
  };
}
