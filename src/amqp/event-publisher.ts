import { once } from 'node:events';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import type { Logger } from '../logger';
import type { AmqpClient } from './connection';

/** One event to publish: the body is the event JSON, the AMQP messageId its eventId. */
export type OutgoingEvent = { eventId: string; eventType: string; routingKey: string; payload: unknown };

/** Publishes events to one exchange on a confirm channel that follows the connection through reconnects. */
export type EventPublisher = {
  /** True when a channel is open (or can be opened at once) to publish on. */
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
  /** Declares the exchange (and anything else) on a fresh channel; rerun after every reconnect. */
  declare: (channel: ConfirmChannel) => Promise<void>;
  confirmTimeoutMs?: number;
};

/** Opens a confirm channel on every (re)connect, declaring the topology first. */
export async function createEventPublisher(amqp: AmqpClient, options: EventPublisherOptions): Promise<EventPublisher> {
  const log = options.logger.child({ component: 'event-publisher', exchange: options.exchange });
  const confirmTimeoutMs = options.confirmTimeoutMs ?? 30_000;
  let model: ChannelModel | null = null;
  let channel: ConfirmChannel | null = null;
  let opening: Promise<ConfirmChannel | null> | null = null;
  let closed = false;

  const open = async (from: ChannelModel): Promise<ConfirmChannel> => {
    const fresh = await from.createConfirmChannel();
    fresh.on('error', (error: Error) => log.warn({ err: error }, 'event channel error'));
    fresh.on('close', () => {
      if (channel === fresh) channel = null;
    });
    await options.declare(fresh);
    channel = fresh;
    return fresh;
  };

  await amqp.onConnect(async (connected) => {
    if (closed) return;
    model = connected;
    connected.once('close', () => {
      if (model === connected) model = null;
    });
    // A failure here must not fail the shared connection's setup: the next publish tries again.
    await open(connected).catch((error: unknown) => log.warn({ err: error }, 'could not open the event channel'));
  });

  // A channel can close on its own (a channel-level error) while the connection lives on.
  const ensureChannel = async (): Promise<ConfirmChannel | null> => {
    if (channel) return channel;
    if (!model || closed) return null;
    opening ??= open(model)
      .catch((error: unknown) => {
        log.warn({ err: error }, 'could not reopen the event channel');
        return null;
      })
      .finally(() => {
        opening = null;
      });
    return opening;
  };

  return {
    isReady: () => !closed && (channel !== null || model !== null),

    async publish(events) {
      const target = await ensureChannel();
      if (!target) return events.map(() => new Error('no channel to publish on'));
      const confirms: Promise<Error | null>[] = [];
      for (const event of events) {
        const { confirmed, written } = publishOne(target, options.exchange, event);
        confirms.push(withTimeout(confirmed, confirmTimeoutMs));
        // A full socket buffer: wait for it to drain (or the channel to go) before writing more.
        if (!written) await Promise.race([once(target, 'drain'), once(target, 'close')]);
      }
      return Promise.all(confirms);
    },

    async close() {
      closed = true;
      const current = channel;
      channel = null;
      await current?.close().catch(() => undefined);
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
      written = channel.publish(
        exchange,
        event.routingKey,
        Buffer.from(JSON.stringify(event.payload)),
        { messageId: event.eventId, type: event.eventType, contentType: 'application/json', persistent: true, timestamp: Math.floor(Date.now() / 1000) },
        (error: unknown) => resolve(error ? toError(error) : null),
      );
    } catch (error) {
      resolve(toError(error));
    }
  });
  return { confirmed, written };
}

function withTimeout(confirmed: Promise<Error | null>, ms: number): Promise<Error | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Error>((resolve) => {
    timer = setTimeout(() => resolve(new Error(`no confirm from the broker within ${ms} ms`)), ms);
  });
  return Promise.race([confirmed, timeout]).finally(() => clearTimeout(timer));
}
