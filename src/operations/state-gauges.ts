import { reservationStatuses } from '../domain/reservation';
import type { Queryable } from '../db/client';
import { findLedgerDifferences } from '../db/lot-store';
import { findUnitDifferences } from '../db/unit-store';
import {
  countOpenDeadLettersByReason,
  countOverdueReservations,
  countOverdueTransfers,
  countOversoldLots,
  countReservationsByStatus,
  oldestQueuedJobAge,
  outboxBacklog,
} from '../db/metrics-store';
import { countOpenFindingsByKind } from '../db/consistency-store';
import { findLowStock } from '../db/stock-settings-store';
import { findingKinds } from '../domain/consistency';
import type { Logger } from '../logger';
import {
  consistencyFindingsOpen,
  deadLettersOpen,
  lowStockItems,
  queuedJobOldestAge,
  outboxOldestAge,
  outboxPending,
  oversoldLots,
  reconcileCheckedAt,
  reconcileDifferences,
  reservationsByStatus,
  reservationsOverdue,
  stateRegistry,
  transfersOverdue,
} from '../metrics';

/** Counts every gauge of the database's state once, and sets them together. */
async function countState(db: Queryable): Promise<void> {
  const now = new Date();
  const [byStatus, oversold, overdueTransfers, overdueHolds, queuedAge, backlog, deadLetters, lowStock, findings] = await Promise.all([
    countReservationsByStatus(db, now),
    countOversoldLots(db),
    countOverdueTransfers(db, now),
    countOverdueReservations(db, now),
    oldestQueuedJobAge(db),
    outboxBacklog(db),
    countOpenDeadLettersByReason(db),
    findLowStock(db, { now, limit: 0, offset: 0 }),
    countOpenFindingsByKind(db),
  ]);
  const counts = new Map(byStatus.map((row) => [row.status, row.count]));
  for (const status of reservationStatuses) reservationsByStatus.set({ status }, counts.get(status) ?? 0);
  oversoldLots.set(oversold);
  transfersOverdue.set(overdueTransfers);
  reservationsOverdue.set(overdueHolds);
  queuedJobOldestAge.set(queuedAge);
  outboxPending.set(backlog.pending);
  outboxOldestAge.set(backlog.lagSeconds);
  // a queue and reason with no open letters left drops out rather than keep its last count
  deadLettersOpen.reset();
  for (const row of deadLetters) deadLettersOpen.set({ queue: row.queue, reason: row.reason }, row.count);
  lowStockItems.set({ severity: 'CRITICAL' }, lowStock.criticalItems);
  lowStockItems.set({ severity: 'LOW' }, lowStock.totalItems - lowStock.criticalItems);
  const openFindings = new Map(findings.map((row) => [row.kind, row.count]));
  for (const kind of findingKinds) consistencyFindingsOpen.set({ kind }, openFindings.get(kind) ?? 0);
}

/** Compares every lot with its ledger, and serial-tracked lots with their units (what `stockroom reconcile` does), and publishes the count that differ. */
async function checkLedger(db: Queryable): Promise<void> {
  const { differences } = await findLedgerDifferences(db);
  const units = await findUnitDifferences(db);
  reconcileDifferences.set(new Set([...differences, ...units.differences].map((difference) => difference.lotId)).size);
  reconcileCheckedAt.set(Date.now() / 1000);
  // absent until the first check finished: no 0 before anyone looked
  if (!stateRegistry.getSingleMetric('stockroom_reconcile_differing_lots')) {
    stateRegistry.registerMetric(reconcileDifferences);
    stateRegistry.registerMetric(reconcileCheckedAt);
  }
}

/** Runs `task` at most once per `maxAgeMs`, one run at a time; a failure is logged and tried again at the next call. */
function throttled(task: () => Promise<void>, maxAgeMs: number, logger: Logger, what: string): () => Promise<void> {
  let doneAt = -Infinity;
  let running: Promise<void> | null = null;
  return async () => {
    if (Date.now() - doneAt < maxAgeMs) return;
    running ??= task()
      .then(() => {
        doneAt = Date.now();
      })
      .catch((error: unknown) => logger.warn({ err: error }, `could not ${what} for the metrics`))
      .finally(() => {
        running = null;
      });
    await running;
  };
}

/**
 * Returns a refresh function for the gauges counted from Postgres (stateRegistry). The counts run at
 * most once per `maxAgeMs`, so frequent scrapes cost one round each, and the refresh waits for them;
 * the ledger check runs at most once per `ledgerCheckMs` (0: never) in the background, its last
 * result served meanwhile. When the database does not answer, the gauges keep their last values.
 */
export function stateGaugeRefresher(db: Queryable, logger: Logger, options: { maxAgeMs?: number; ledgerCheckMs: number }): () => Promise<void> {
  const counts = throttled(() => countState(db), options.maxAgeMs ?? 1000, logger, 'count the stock, reservations, outbox and dead letters');
  const ledger = options.ledgerCheckMs > 0 ? throttled(() => checkLedger(db), options.ledgerCheckMs, logger, 'compare the lots with the ledger') : null;
  return async () => {
    void ledger?.();
    await counts();
  };
}
