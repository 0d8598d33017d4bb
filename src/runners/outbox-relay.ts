import { createEventPublisher } from '../amqp/event-publisher';
import { declareEventsExchange } from '../amqp/event-topology';
import { pruneOutbox, relayOutboxRound } from '../events/relay';
import type { Runner, WorkerDeps } from './runner';

const PRUNE_EVERY_MS = 10 * 60_000;
const RETRY_MAX_MS = 5 * 60_000;

/**
 * Publishes outbox events to the events exchange: rounds back to back while there is a backlog,
 * else one every OUTBOX_POLL_INTERVAL_MS; prunes published events past OUTBOX_RETENTION_HOURS at
 * start and every ten minutes. Any number of relays may run at once (see claimPendingEvents).
 */
export async function startOutboxRelay(deps: WorkerDeps): Promise<Runner> {
  const { config, pool, amqp } = deps;
  const log = deps.logger.child({ component: 'outbox-relay' });
  const publisher = await createEventPublisher(amqp, {
    exchange: config.EVENTS_EXCHANGE,
    logger: deps.logger,
    declare: (channel) => declareEventsExchange(channel, config.EVENTS_EXCHANGE),
    confirmTimeoutMs: config.PUBLISH_CONFIRM_TIMEOUT_MS,
  });
  const relayOptions = { batchSize: config.OUTBOX_BATCH_SIZE, retryBaseMs: config.OUTBOX_POLL_INTERVAL_MS, retryMaxMs: RETRY_MAX_MS };

  let stopping = false;
  let wake: (() => void) | null = null;
  /** Waits `ms`, or not at all once stop() was called. */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopping) {
        resolve();
        return;
      }
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      wake = null;
    });

  const relayUntilStopped = async () => {
    let prunedAt = 0;
    while (!stopping) {
      let backlog = false;
      try {
        if (Date.now() - prunedAt >= PRUNE_EVERY_MS) {
          prunedAt = Date.now();
          const pruned = await pruneOutbox(pool, { retentionHours: config.OUTBOX_RETENTION_HOURS });
          if (pruned > 0) log.info({ pruned }, 'pruned published outbox events');
        }
        if (publisher.isReady()) {
          const round = await relayOutboxRound(pool, publisher, relayOptions);
          if (round.failed > 0) log.warn(round, 'some events were not confirmed; they will be tried again');
          backlog = round.claimed === relayOptions.batchSize && round.failed === 0;
        }
      } catch (error) {
        log.warn({ err: error }, 'outbox relay round failed');
      }
      if (!backlog) await pause(config.OUTBOX_POLL_INTERVAL_MS);
    }
  };
  const loop = relayUntilStopped();

  return {
    name: 'outbox-relay',
    async stop() {
      stopping = true;
      wake?.();
      await loop;
      await publisher.close();
    },
  };
}
