import { consumeInBatches } from '../amqp/consumer';
import { consumerTopology, declareConsumerTopology } from '../amqp/event-topology';
import { createPublisher } from '../amqp/publisher';
import { deadQueueBounds, quorumQueuesOf } from '../amqp/topology';
import { createSettler, readMessage } from '../amqp/settle';
import { applyEventOnce, keepDeadLetters, type EventSpec } from '../events/consume';
import { eventsConsumed } from '../metrics';
import { publisherHeaders, publisherOf, UNAUTHENTICATED_PUBLISHER } from '../events/publishers';
import type { Runner, WorkerDeps } from './runner';

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
  /** the RabbitMQ users allowed to publish these events, each with the owner its events act for */
  publishers: ReadonlyMap<string, string>;
};

/** How stockroom_events_consumed_total names what became of an event. */
const consumedOutcome = { processed: 'processed', duplicate: 'duplicate', retry: 'failed', dead: 'dead_lettered' } as const;

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
 * Consumes a queue bound to another service's topic exchange. An event is believed only from an
 * allowed publisher, as the broker vouches for it (its `user_id`, src/events/publishers.ts); any
 * other goes straight to the dead-letter queue with reason `unauthenticated_publisher`, changing
 * nothing. Each event is applied for the owner its publisher is bound to, validated and applied
 * once (deduplicated by eventId in the transaction of its effect), and acknowledged after commit.
 * An invalid event or a final refusal goes straight to the dead-letter queue, its reason in the
 * `stockroom-reason` header and a dead_letters row; a transient failure waits in a retry queue and
 * is tried again, at most JOB_MAX_ATTEMPTS times in all, then dead-lettered (src/amqp/settle.ts).
 */
export async function startEventConsumer<E extends { eventId: string; type: string }>(deps: WorkerDeps, spec: EventConsumerSpec<E>): Promise<Runner> {
  const { config, pool, amqp } = deps;
  const log = deps.logger.child({ component: spec.name, queue: spec.queue });
  const topology = consumerTopology(
    spec.queue,
    config.JOB_RETRY_DELAYS_MS,
    { exchange: spec.exchange, routingKeys: spec.routingKeys },
    quorumQueuesOf(config).quorum,
  );
  await amqp.onConnect((model) => declareConsumerTopology(model, topology, deadQueueBounds(config), log));
  const publisher = await createPublisher(amqp, deps.logger);
  const serial = serialPerKey();
  const settler = createSettler({
    topology,
    publisher,
    maxAttempts: config.JOB_MAX_ATTEMPTS,
    retryDelaysMs: config.JOB_RETRY_DELAYS_MS,
    confirmTimeoutMs: config.PUBLISH_CONFIRM_TIMEOUT_MS,
    log,
    keep: (letters) => keepDeadLetters(pool, letters),
    originOf: (delivery) => publisherHeaders(publisherOf(delivery.message.properties, amqp.user)),
  });

  const consumer = await consumeInBatches(amqp, deps.logger, { queues: [topology.work], prefetch: PREFETCH, batchSize: 1, batchWaitMs: 0 }, async (batch) => {
    for (const delivery of batch) {
      const settlement = settler.batch();
      const read = readMessage(delivery.message.content, spec.schema, 'invalid_event');
      const publisher = publisherOf(delivery.message.properties, amqp.user);
      const owner = publisher === null ? undefined : spec.publishers.get(publisher);
      if (settlement.deadLetterAtLimit(delivery, { payload: read.ok ? read.value : read.payload })) {
        eventsConsumed.inc({ queue: topology.work, outcome: 'dead_lettered' });
        await settlement.settle();
        continue;
      }
      if (owner === undefined) {
        eventsConsumed.inc({ queue: topology.work, outcome: 'dead_lettered' });
        settlement.deadLetter(delivery, {
          reason: UNAUTHENTICATED_PUBLISHER,
          error:
            publisher === null
              ? `the message carries no user_id, so its publisher is unknown; ${spec.exchange} takes events only from configured publishers`
              : `RabbitMQ user ${publisher} is not a configured publisher of ${spec.exchange}`,
          payload: read.ok ? read.value : read.payload,
        });
        await settlement.settle();
        continue;
      }
      if (!read.ok) {
        eventsConsumed.inc({ queue: topology.work, outcome: 'dead_lettered' });
        settlement.deadLetter(delivery, read);
        await settlement.settle();
        continue;
      }
      const event = read.value;
      await serial(spec.keyOf(event), async () => {
        const outcome = await applyEventOnce(pool, spec, event, owner);
        eventsConsumed.inc({ queue: topology.work, outcome: consumedOutcome[outcome.kind] });
        if (outcome.kind === 'dead') settlement.deadLetter(delivery, { reason: outcome.reason, error: outcome.error, payload: event });
        else if (outcome.kind === 'retry') settlement.fail(delivery, { error: outcome.error, retryable: true, payload: event });
        else {
          log.debug({ eventId: event.eventId, type: event.type, outcome: outcome.kind }, 'event consumed');
          settlement.ack(delivery);
        }
        await settlement.settle();
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
