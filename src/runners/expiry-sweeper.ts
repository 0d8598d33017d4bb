import { expireReservations } from '../inventory/reservations/expire';
import { startPeriodic, type Runner, type WorkerDeps } from './runner';

/**
 * Every EXPIRY_SWEEP_INTERVAL_MS, expires the RESERVED reservations whose hold ended; any number of
 * sweepers may run at once. stop() waits for a sweep in progress.
 */
export function startExpirySweeper({ config, pool, logger }: Pick<WorkerDeps, 'config' | 'pool' | 'logger'>): Runner {
  const log = logger.child({ component: 'expiry-sweeper' });
  return startPeriodic('expiry-sweeper', config.EXPIRY_SWEEP_INTERVAL_MS, async () => {
    try {
      const expired = await expireReservations(pool, { now: new Date(), batchSize: config.EXPIRY_SWEEP_BATCH_SIZE });
      if (expired > 0) log.info({ expired }, 'reservations expired');
    } catch (error) {
      // the next round tries again; a sweep that failed changed nothing
      log.error({ err: error }, 'expiry sweep failed');
    }
  });
}
