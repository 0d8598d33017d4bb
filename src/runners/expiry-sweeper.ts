import { expireReservations } from '../inventory/reservations/expire';
import type { Runner, WorkerDeps } from './runner';

/**
 * Every EXPIRY_SWEEP_INTERVAL_MS, expires the RESERVED reservations whose hold ended; any number of
 * sweepers may run at once. stop() waits for a sweep in progress.
 */
export function startExpirySweeper({ config, pool, logger }: Pick<WorkerDeps, 'config' | 'pool' | 'logger'>): Runner {
  const log = logger.child({ component: 'expiry-sweeper' });
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> = Promise.resolve();

  const sweep = async () => {
    try {
      const expired = await expireReservations(pool, { now: new Date(), batchSize: config.EXPIRY_SWEEP_BATCH_SIZE });
      if (expired > 0) log.info({ expired }, 'reservations expired');
    } catch (error) {
      // the next round tries again; a sweep that failed changed nothing
      log.error({ err: error }, 'expiry sweep failed');
    }
    if (!stopped) timer = setTimeout(() => void (sweeping = sweep()), config.EXPIRY_SWEEP_INTERVAL_MS);
  };
  sweeping = sweep();

  return {
    name: 'expiry-sweeper',
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await sweeping;
    },
  };
}
