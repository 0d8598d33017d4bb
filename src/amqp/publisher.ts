import type { ConfirmChannel, MessagePropertyHeaders } from 'amqplib';
import type { Logger } from '../logger';
import { keepChannel } from './channels';
import type { AmqpClient } from './connection';

export type PublishOptions = { messageId: string; priority?: number; headers?: MessagePropertyHeaders };

/** Persistent publishing with publisher confirms on one confirm channel per process. */
export type Publisher = {
  /**
   * Publishes to a queue through the default exchange and resolves once the broker confirmed the
   * message; rejects at once while the broker is away, and after `timeoutMs` without a confirm.
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

/** Opens the process's confirm channel now and after every reconnect. */
export async function createPublisher(amqp: AmqpClient, logger: Logger): Promise<Publisher> {
  const log = logger.child({ component: 'publisher' });
  const kept = await keepChannel<ConfirmChannel>(
    amqp,
    log,
    (model) => model.createConfirmChannel(),
    async () => {},
  );

  return {
    isReady: () => kept.current() !== null,
    close: () => kept.close(),
    publish(queue, body, options, timeoutMs) {
      const channel = kept.current();
      if (!channel) return Promise.reject(new PublishError('RabbitMQ is unavailable'));
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new PublishError(`no confirm from RabbitMQ within ${timeoutMs} ms`)), timeoutMs);
        timer.unref();
        try {
          channel.sendToQueue(
            queue,
            body,
            {
              persistent: true,
              contentType: 'application/json',
              messageId: options.messageId,
              priority: options.priority,
              headers: options.headers,
              timestamp: Math.floor(Date.now() / 1000),
            },
            (error: unknown) => {
              clearTimeout(timer);
              if (error) reject(new PublishError('RabbitMQ did not accept the message', { cause: error }));
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
