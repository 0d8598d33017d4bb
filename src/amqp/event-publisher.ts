import { once } from 'node:events';
import type { ConfirmChannel } from 'amqplib';
import type { Logger } from '../logger';
import { contextOfTraceparent, runWithin, withTraceHeaders } from '../tracing/trace-context';
import { keepChannel } from './channels';
import type { AmqpClient } from './connection';

/**
 * One event to publish: `body` is the event JSON, the AMQP messageId its eventId; `traceparent`,
 * the trace context of what caused it, which its publish continues and its headers carry.
 */
export type OutgoingEvent = { eventId: string; eventType: string; routingKey: string; body: string; traceparent?: string | null };

/** Publishes events to one exchange on a confirm channel that follows the connection through reconnects. */
export type EventPublisher = {
  /** True while a channel is open to publish on. */
  isReady(): boolean;
  /**
   * Publishes the events in order and waits for the broker's confirms. Resolves with one entry per
   * event: null once the broker confirmed it, else the error (nack, channel lost, timeout).
   */
  publish(events: readonly OutgoingEvent[]): Promise<(Error | null)[]>;
  close(): Promise<void>;
};

export type EventPublisherOptions = {
  exchange: string;
  logger: Logger;
  /** Declares the exchange on each fresh channel, so it exists before anything is published. */
  declare: (channel: ConfirmChannel) => Promise<void>;
  confirmTimeoutMs: number;
};

/** Opens a confirm channel now and after every reconnect (or channel loss), declaring the topology first. */
export async function createEventPublisher(amqp: AmqpClient, options: EventPublisherOptions): Promise<EventPublisher> {
  const log = options.logger.child({ component: 'event-publisher', exchange: options.exchange });
  const kept = await keepChannel<ConfirmChannel>(amqp, log, (model) => model.createConfirmChannel(), options.declare);

  return {
    isReady: () => kept.current() !== null,
    close: () => kept.close(),

    async publish(events) {
      const channel = kept.current();
      if (!channel) return events.map(() => new Error('RabbitMQ is unavailable'));
      const confirms: Promise<Error | null>[] = [];
      for (const event of events) {
        const { confirmed, written } = publishOne(channel, options.exchange, event);
        confirms.push(withTimeout(confirmed, options.confirmTimeoutMs));
        // A full socket buffer: wait for it to drain (or the channel to go) before writing more.
        if (!written) await Promise.race([once(channel, 'drain'), once(channel, 'close')]);
      }
      return Promise.all(confirms);
    },
  };
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Writes one persistent message; `confirmed` settles with the broker's answer, never rejects. */
function publishOne(channel: ConfirmChannel, exchange: string, event: OutgoingEvent): { confirmed: Promise<Error | null>; written: boolean } {
  let written = true;
  const confirmed = new Promise<Error | null>((resolve) => {
    try {
      written = runWithin(contextOfTraceparent(event.traceparent), () =>
        channel.publish(
          exchange,
          event.routingKey,
          Buffer.from(event.body),
          {
            messageId: event.eventId,
            type: event.eventType,
            contentType: 'application/json',
            persistent: true,
            timestamp: Math.floor(Date.now() / 1000),
            headers: withTraceHeaders(undefined),
          },
          (error: unknown) => resolve(error ? toError(error) : null),
        ),
      );
    } catch (error) {
      // the channel closed under us
      resolve(toError(error));
    }
  });
  return { confirmed, written };
}

function withTimeout(confirmed: Promise<Error | null>, ms: number): Promise<Error | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Error>((resolve) => {
    timer = setTimeout(() => resolve(new Error(`no confirm from RabbitMQ within ${ms} ms`)), ms);
  });
  return Promise.race([confirmed, timeout]).finally(() => clearTimeout(timer));
}
