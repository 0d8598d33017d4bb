import type { Queryable } from '../db/client';
import { countOpenFindingsByKind, countStuckJobs } from '../db/consistency-store';
import { countOverdueReservations, outboxBacklog } from '../db/metrics-store';
import type { Config } from '../config';
import { thresholdsAt } from '../inventory/consistency/check';
import { openByKindOf } from '../inventory/consistency/views';
import type { HealthDetails } from '../schemas/consistency';
import type { ReadinessProbe } from './readiness';

/** What GET /health/details answers. */
export type HealthDetailsProbe = () => Promise<HealthDetails>;

/**
 * Readiness (dependencies only) with what an operator looks at next: the consistency check's open
 * findings by kind, and what is stuck now (jobs left processing, holds past expiry, unpublished events).
 * A database that does not answer gives the readiness answer with zeros elsewhere: the 503 says enough.
 */
export function healthDetailsProbe(db: Queryable, config: Config, probe: ReadinessProbe): HealthDetailsProbe {
  return async () => {
    const readiness = await probe();
    const now = new Date();
    const { overdueBefore, stuckBefore } = thresholdsAt(now, config);
    if (readiness.checks.database.status === 'down') {
      return {
        ...readiness,
        findings: { open: 0, byKind: openByKindOf([]) },
        stuck: { processingJobs: 0, overdueHolds: 0, unpublishedEvents: 0, oldestUnpublishedEventSeconds: 0 },
      };
    }
    const [byKind, processingJobs, overdueHolds, outbox] = await Promise.all([
      countOpenFindingsByKind(db),
      countStuckJobs(db, stuckBefore),
      countOverdueReservations(db, overdueBefore),
      outboxBacklog(db),
    ]);
    return {
      ...readiness,
      findings: { open: byKind.reduce((sum, row) => sum + row.count, 0), byKind: openByKindOf(byKind) },
      stuck: { processingJobs, overdueHolds, unpublishedEvents: outbox.pending, oldestUnpublishedEventSeconds: outbox.lagSeconds },
    };
  };
}
