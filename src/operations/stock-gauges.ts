import { reservationStatuses } from '../domain/reservation';
import type { Queryable } from '../db/client';
import { countOverdueTransfers, countOversoldLots, countReservationsByStatus } from '../db/metrics-store';
import type { Logger } from '../logger';
import { oversoldLots, reservationsByStatus, transfersOverdue } from '../metrics';

/**
 * Returns a refresh function for the gauges counted from Postgres (reservations by status, oversold
 * lots, overdue transfers). It queries at most once per `maxAgeMs`, so frequent scrapes cost one count each; when the
 * database does not answer, the gauges keep their last values.
 */
export function stockGaugeRefresher(db: Queryable, logger: Logger, maxAgeMs = 1000): () => Promise<void> {
  let refreshedAt = -Infinity;
  let running: Promise<void> | null = null;
  const refresh = async () => {
    try {
      const now = new Date();
      const [byStatus, oversold, overdue] = await Promise.all([countReservationsByStatus(db, now), countOversoldLots(db), countOverdueTransfers(db, now)]);
      const counts = new Map(byStatus.map((row) => [row.status, row.count]));
      for (const status of reservationStatuses) reservationsByStatus.set({ status }, counts.get(status) ?? 0);
      oversoldLots.set(oversold);
      transfersOverdue.set(overdue);
      refreshedAt = Date.now();
    } catch (error) {
      logger.warn({ err: error }, 'could not count reservations, oversold lots and overdue transfers for the metrics');
    }
  };
  return async () => {
    if (Date.now() - refreshedAt < maxAgeMs) return;
    running ??= refresh().finally(() => {
      running = null;
    });
    await running;
  };
}
