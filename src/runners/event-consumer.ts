import type { MessagePropertyHeaders } from 'amqplib';
import { consumeInBatches, type Delivery } from '../amqp/consumer';
import { consumerTopology, declareConsumerTopology, type ConsumerTopology } from '../amqp/event-topology';
import { createPublisher, type Publisher } from '../amqp/publisher';
import { ATTEMPTS_HEADER, FIRST_ERROR_HEADER, LAST_ERROR_HEADER, attemptsOf, retryQueueFor } from '../amqp/topology';
import { applyEventOnce, readEvent, recordDeadLetter, type EventSpec } from '../events/consume';
import type { Logger } from '../logger';
import { deadLettersTotal } from '../metrics';
import type { Runner, WorkerDeps } from './runner';

/** Why a message was dead-lettered, on the copy in the dead-letter queue. */
export const REASON_HEADER = 'stockroom-reason';
const EXCHANGE_HEADER = 'stockroom-exchange';
const ROUTING_KEY_HEADER = 'stockroom-routing-key';

/** Events one consumer handles at once; events of one key (an order, a product) still go one at a time. */
const PREFETCH = 32;

/** A consumer of another service's events: its queue, what it binds, and how it applies an event. */
export type EventConsumerSpec<E extends { eventId: string; type: string }> = EventSpec<E> & {
  name: string;
  queue: string;
  exchange: string;
  routingKeys: readonly string[];
  /** events with the same key are applied in the order they arrive */
  keyOf(event: E): string;
};

function headerText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Runs tasks of one key one after another, tasks of different keys side by side. */
function serialPerKey() {
  const tails = new Map<string, Promise<void>>();
  return (key: string, task: () => Promise<void>): Promise<void> => {
    const run = (tails.get(key) ?? Promise.resolve()).then(task);
    const tail = run.catch(() => {});
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return run;
  };
}

/**
 * Consumes a queue bound to another service's topic exchange. Each event is validated and applied
 * once (deduplicated by eventId in the transaction of its effect), and acknowledged after commit.
 * An invalid event or a final refusal goes straight to the dead-letter queue, its reason in the
 * `stockroom-reason` header and a dead_letters row; a transient failure waits in a retry queue and
 * is tried again, at most JOB_MAX_ATTEMPTS times in all, then dead-lettered.
 */
export async function startEventConsumer<E extends { eventId: string; type: string }>(deps: WorkerDeps, spec: EventConsumerSpec<E>): Promise<Runner> {
  const { config, pool, amqp } = deps;
  const log = deps.logger.child({ component: spec.name, queue: spec.queue });
  const topology = consumerTopology(spec.queue, config.JOB_RETRY_DELAYS_MS, { exchange: spec.exchange, routingKeys: spec.routingKeys });
  await amqp.onConnect((model) => declareConsumerTopology(model, topology));
  const publisher = await createPublisher(amqp, deps.logger);
  const serial = serialPerKey();
  const settle = settler({ topology, publisher, log, deps });

  const consumer = await consumeInBatches(amqp, deps.logger, { queue: topology.work, prefetch: PREFETCH, batchSize: 1, batchWaitMs: 0 }, async (batch) => {
    for (const delivery of batch) {
      const read = readEvent(spec, delivery.message.content);
      if (!read.ok) {
        await settle.deadLetter(delivery, read.reason, read.error, read.payload);
        continue;
      }
      const event = read.event;
      await serial(spec.keyOf(event), async () => {
        const outcome = await applyEventOnce(pool, spec, event);
        switch (outcome.kind) {
          case 'dead':
            return settle.deadLetter(delivery, outcome.reason, outcome.error, event);
          case 'retry':
            return settle.retry(delivery, outcome.error, event);
          default:
            log.debug({ eventId: event.eventId, type: event.type, outcome: outcome.kind }, 'event consumed');
            delivery.ack();
        }
      });
    }
  });

  return {
    name: spec.name,
    async stop() {
      await consumer.stop();
      await publisher.close();
    },
  };
}

/** Where the broker first delivered a message; a retried copy carries it in headers, as it returns through the default exchange. */
function originOf(message: Delivery['message']): { exchange: string; routingKey: string } {
  const headers = message.properties.headers ?? {};
  return {
    exchange: headerText(headers[EXCHANGE_HEADER]) ?? message.fields.exchange,
    routingKey: headerText(headers[ROUTING_KEY_HEADER]) ?? message.fields.routingKey,
  };
}

/** Dead-letters or retries a delivery, acknowledging it only once the broker confirmed the copy. */
function settler(ctx: { topology: ConsumerTopology; publisher: Publisher; log: Logger; deps: WorkerDeps }) {
  const { topology, publisher, log, deps } = ctx;
  const confirmMs = deps.config.PUBLISH_CONFIRM_TIMEOUT_MS;
  const messageIdOf = (delivery: Delivery, payload: unknown): string =>
    (delivery.message.properties.messageId as string | undefined) ?? (payload as { eventId?: string } | null)?.eventId ?? 'unknown';

  const deadLetter = async (delivery: Delivery, reason: string, error: string, payload: unknown, attempts?: number): Promise<void> => {
    const { message } = delivery;
    const headers: MessagePropertyHeaders = message.properties.headers ?? {};
    const tries = attempts ?? attemptsOf(headers, topology) + 1;
    const firstError = headerText(headers[FIRST_ERROR_HEADER]) ?? error;
    const origin = originOf(message);
    log.warn({ reason, error, routingKey: origin.routingKey, attempts: tries }, 'event dead-lettered');
    try {
      await recordDeadLetter(deps.pool, {
        queue: topology.work,
        reason,
        attempts: tries,
        firstError,
        lastError: error,
        payload,
        headers: {
          messageId: message.properties.messageId ?? null,
          ...origin,
          redelivered: message.fields.redelivered,
        },
      });
    } catch (failure) {
      // the broker's copy below still keeps the message and its reason
      log.error({ err: failure }, 'could not record a dead letter');
    }
    try {
      await publisher.publish(
        topology.dead,
        message.content,
        {
          messageId: messageIdOf(delivery, payload),
          headers: {
            [REASON_HEADER]: reason,
            [ATTEMPTS_HEADER]: tries,
            [FIRST_ERROR_HEADER]: firstError,
            [LAST_ERROR_HEADER]: error,
            [EXCHANGE_HEADER]: origin.exchange,
            [ROUTING_KEY_HEADER]: origin.routingKey,
          },
        },
        confirmMs,
      );
      delivery.ack();
    } catch (failure) {
      // the queue's own dead-letter target takes it, without the reason header
      log.warn({ err: failure }, 'could not publish to the dead-letter queue; rejecting instead');
      delivery.reject();
    }
    deadLettersTotal.inc({ queue: topology.work });
  };

  const retry = async (delivery: Delivery, error: string, event: { eventId: string; type: string }): Promise<void> => {
    const { message } = delivery;
    const headers: MessagePropertyHeaders = message.properties.headers ?? {};
    const failures = attemptsOf(headers, topology) + 1;
    if (failures >= deps.config.JOB_MAX_ATTEMPTS) {
      await deadLetter(delivery, 'retries_exhausted', error, event, failures);
      return;
    }
    log.info({ eventId: event.eventId, type: event.type, error, attempt: failures }, 'event failed; trying again later');
    const origin = originOf(message);
    try {
      await publisher.publish(
        retryQueueFor(topology, deps.config.JOB_RETRY_DELAYS_MS, failures),
        message.content,
        {
          messageId: messageIdOf(delivery, event),
          headers: {
            [EXCHANGE_HEADER]: origin.exchange,
            [ROUTING_KEY_HEADER]: origin.routingKey,
            [ATTEMPTS_HEADER]: failures,
            [FIRST_ERROR_HEADER]: headerText(headers[FIRST_ERROR_HEADER]) ?? error,
            [LAST_ERROR_HEADER]: error,
          },
        },
        confirmMs,
      );
      delivery.ack();
    } catch (failure) {
      // unacknowledged, it comes back when the channel closes
      log.warn({ err: failure, eventId: event.eventId }, 'could not publish a retry; leaving the event unacknowledged');
    }
  };

  return { deadLetter, retry };
}
