import { pruneIdempotencyKeys } from '../inventory/idempotency';
import { startPeriodic, type Runner, type WorkerDeps } from './runner';

/**
 * At start and every IDEMPOTENCY_PRUNE_INTERVAL_MS, deletes the Idempotency-Keys kept longer than
 * IDEMPOTENCY_RETENTION_HOURS, so their keys may be used again; any number of pruners may run at
 * once. stop() waits for a round in progress.
 */
export function startIdempotencyPruner({ config, pool, logger }: Pick<WorkerDeps, 'config' | 'pool' | 'logger'>): Runner {
  const log = logger.child({ component: 'idempotency-pruner' });
  return startPeriodic('idempotency-pruner', config.IDEMPOTENCY_PRUNE_INTERVAL_MS, async () => {
    try {
      const pruned = await pruneIdempotencyKeys(pool, { retentionHours: config.IDEMPOTENCY_RETENTION_HOURS });
      if (pruned > 0) log.info({ pruned }, 'pruned idempotency keys past their retention');
    } catch (error) {
      // the next round tries again; what a failed round deleted stays deleted
      log.warn({ err: error }, 'idempotency key pruning failed');
    }
  });
}
