import { openJobPublishing } from '../inventory/jobs/allocation-dispatch';
import { relayUnpublishedJobs, republishStalledJobs } from '../inventory/jobs/allocation-relay';
import type { Runner, WorkerDeps } from './runner';

/**
 * Every ALLOCATION_RELAY_INTERVAL_MS, publishes the accepted jobs the broker has not confirmed, and
 * again the published ones stalled for ALLOCATION_REPUBLISH_AFTER_MS (their message was lost).
 */
export async function startAllocationRelay({ config, pool, logger, amqp }: WorkerDeps): Promise<Runner> {
  const log = logger.child({ component: 'allocation-relay' });
  const publishing = await openJobPublishing({ config, pool, logger, amqp });
  const { dispatcher } = publishing;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let round: Promise<void> = Promise.resolve();

  const tick = (): void => {
    round = (async () => {
      // while the broker is away there is nothing to publish to; the rows wait in Postgres
      if (!publishing.publisher?.isReady()) return;
      try {
        const published = await relayUnpublishedJobs(pool, dispatcher, config.ALLOCATION_RELAY_AFTER_MS);
        if (published > 0) log.info({ published }, 'published jobs the broker had not confirmed');
        const republished = await republishStalledJobs(pool, dispatcher, config.ALLOCATION_REPUBLISH_AFTER_MS);
        if (republished > 0) log.warn({ republished }, 'published again jobs whose message was lost (stalled longer than ALLOCATION_REPUBLISH_AFTER_MS)');
      } catch (error) {
        log.warn({ err: error }, 'relay round failed; trying again next round');
      }
    })().finally(() => {
      if (!stopped) timer = setTimeout(tick, config.ALLOCATION_RELAY_INTERVAL_MS);
    });
  };
  tick();

  return {
    name: 'allocation-relay',
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await round;
      await publishing.close();
    },
  };
}
