import { runConsistencyCheckIfFree } from '../inventory/consistency/check';
import { startPeriodic, type Runner, type WorkerDeps } from './runner';

/**
 * At start and every CONSISTENCY_CHECK_INTERVAL_MS (0: never), runs the consistency check, unless a
 * check holds its advisory lock in another process: however many workers run, one checks at a
 * time. stop() waits for a check in progress.
 */
export function startConsistencyMonitor({ config, pool, logger }: Pick<WorkerDeps, 'config' | 'pool' | 'logger'>): Runner {
  const log = logger.child({ component: 'consistency-monitor' });
  if (config.CONSISTENCY_CHECK_INTERVAL_MS === 0) return { name: 'consistency-monitor', stop: async () => {} };
  return startPeriodic('consistency-monitor', config.CONSISTENCY_CHECK_INTERVAL_MS, async () => {
    try {
      const outcome = await runConsistencyCheckIfFree(pool, config);
      if (outcome === 'busy') log.info('another process is running the consistency check; skipped this round');
      else if (outcome.appeared > 0 || outcome.resolved > 0 || Object.keys(outcome.openByKind).length > 0)
        log.warn(outcome, 'consistency check found inconsistencies');
      else log.info(outcome, 'consistency check found nothing wrong');
    } catch (error) {
      // the next round tries again; a check that failed wrote nothing
      log.error({ err: error }, 'consistency check failed');
    }
  });
}
