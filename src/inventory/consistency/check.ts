/**
 * The consistency check (seed 004's monitoring): looks for every kind of inconsistency, keeps one
 * finding per kind and subject, and announces each new one with ConsistencyIssueDetected.
 */
import type { Pool } from 'pg';
import { newId } from '../../ids';
import type { Config } from '../../config';
import { withTransaction, type Queryable, type Transaction } from '../../db/client';
import {
  findCancelledOrderHolds,
  findLongHolds,
  findOverdueHolds,
  findStuckJobs,
  findUnitMismatchLots,
  insertFindings,
  lockConsistencyCheck,
  lockOpenFindings,
  resolveFindings,
  touchFindings,
  tryLockConsistencyCheck,
  type DetectionScope,
} from '../../db/consistency-store';
import { findLedgerDifferences } from '../../db/lot-store';
import { findLinesOfLots } from '../../db/reservation-store';
import { findUnitsOfLots } from '../../db/unit-store';
import { commitWrites } from '../../db/writes';
import { planFindingChanges, type DetectedIssue, type FindingKind } from '../../domain/consistency';
import { unitDisagreements } from '../../domain/units';
import { outboxRows } from '../../events/outbox';

/** The settings that say when something counts as wrong. */
export type CheckSettings = Pick<Config, 'CONSISTENCY_OVERDUE_GRACE_MS' | 'CONSISTENCY_STUCK_JOB_AFTER_MS' | 'CONSISTENCY_LONG_HOLD_HOURS'>;

/** The resolution recorded on a finding a check no longer found. */
export const GONE = 'no longer found by the consistency check';

/** The instants before which a hold is overdue, a job stuck and a hold long, at `now`. */
export function thresholdsAt(now: Date, settings: CheckSettings): { overdueBefore: Date; stuckBefore: Date; heldSince: Date } {
  return {
    overdueBefore: new Date(now.getTime() - settings.CONSISTENCY_OVERDUE_GRACE_MS),
    stuckBefore: new Date(now.getTime() - settings.CONSISTENCY_STUCK_JOB_AFTER_MS),
    heldSince: new Date(now.getTime() - settings.CONSISTENCY_LONG_HOLD_HOURS * 3_600_000),
  };
}

/** Every issue of one kind the database holds now, within `scope` (a lot has no order: the ledger kind is looked at unscoped only). */
export async function detectKind(db: Queryable, kind: FindingKind, now: Date, settings: CheckSettings, scope: DetectionScope = {}): Promise<DetectedIssue[]> {
  const { overdueBefore, stuckBefore, heldSince } = thresholdsAt(now, settings);
  switch (kind) {
    case 'overdue_hold':
      return findOverdueHolds(db, overdueBefore, scope);
    case 'cancelled_order_hold':
      return findCancelledOrderHolds(db, now, scope);
    case 'long_hold':
      return findLongHolds(db, now, heldSince, scope);
    case 'stuck_job':
      return findStuckJobs(db, stuckBefore, scope);
    case 'ledger_mismatch': {
      if (scope.orderId !== undefined) return [];
      const { differences } = await findLedgerDifferences(db, scope.subjectIds);
      return differences.map(({ lotId, ...detail }) => ({ kind: 'ledger_mismatch', subjectType: 'lot', subjectId: lotId, detail }));
    }
    case 'unit_mismatch':
      return findUnitMismatches(db, scope);
  }
}

/** The serial-tracked lots whose units disagree with their reservation lines (found in SQL), each with the disagreements unitDisagreements names. */
async function findUnitMismatches(db: Queryable, scope: DetectionScope): Promise<DetectedIssue[]> {
  const lotIds = await findUnitMismatchLots(db, scope);
  const [lines, units] = [await findLinesOfLots(db, lotIds), await findUnitsOfLots(db, lotIds)];
  return lotIds.flatMap((lotId): DetectedIssue[] => {
    const lotLines = lines.filter((line) => line.lotId === lotId);
    const disagreements = unitDisagreements(
      lotLines,
      units.filter((unit) => unit.lotId === lotId),
    );
    if (disagreements.length === 0) return [];
    const { productId } = disagreements[0]!;
    return [{ kind: 'unit_mismatch', subjectType: 'lot', subjectId: lotId, detail: { productId, disagreements } }];
  });
}

const kindsChecked: readonly FindingKind[] = ['overdue_hold', 'cancelled_order_hold', 'ledger_mismatch', 'stuck_job', 'long_hold', 'unit_mismatch'];

/** What one check found: how many findings appeared, were seen again and were resolved, and the open ones by kind. */
export type CheckSummary = { checkedAt: Date; appeared: number; seenAgain: number; resolved: number; openByKind: Partial<Record<FindingKind, number>> };

/** Runs the check in the caller's transaction, which holds the check lock. */
async function checkHoldingLock(tx: Transaction, now: Date, settings: CheckSettings): Promise<CheckSummary> {
  // one after another: a transaction's client runs one statement at a time
  const detected: DetectedIssue[] = [];
  for (const kind of kindsChecked) detected.push(...(await detectKind(tx, kind, now, settings)));
  const open = await lockOpenFindings(tx);
  const changes = planFindingChanges(open, detected);
  const appeared = changes.appeared.map((issue) => ({ ...issue, id: newId() }));
  await insertFindings(tx, appeared, now);
  await touchFindings(tx, changes.seenAgain, now);
  await resolveFindings(tx, changes.resolved, now, GONE);
  await commitWrites(tx, {
    outbox: outboxRows(
      appeared.map((finding) => ({
        type: 'ConsistencyIssueDetected' as const,
        findingId: finding.id,
        kind: finding.kind,
        subjectType: finding.subjectType,
        subjectId: finding.subjectId,
        detail: finding.detail,
        firstSeenAt: now,
        timestamp: now,
      })),
      now,
    ),
  });
  const openByKind: Partial<Record<FindingKind, number>> = {};
  for (const issue of detected) openByKind[issue.kind] = (openByKind[issue.kind] ?? 0) + 1;
  return { checkedAt: now, appeared: appeared.length, seenAgain: changes.seenAgain.length, resolved: changes.resolved.length, openByKind };
}

/**
 * Runs the consistency check now, in one transaction under the check's advisory lock: waits for a
 * check already running in any process (POST /admin/consistency/check).
 */
export async function runConsistencyCheck(pool: Pool, settings: CheckSettings, now: Date = new Date()): Promise<CheckSummary> {
  return withTransaction(pool, async (tx) => {
    await lockConsistencyCheck(tx);
    return checkHoldingLock(tx, now, settings);
  });
}

/**
 * Runs the check unless one is running in any process (the background monitor): 'busy' when
 * another holds the lock, so however many workers run, one checks at a time.
 */
export async function runConsistencyCheckIfFree(pool: Pool, settings: CheckSettings, now: Date = new Date()): Promise<CheckSummary | 'busy'> {
  return withTransaction(pool, async (tx) => {
    if (!(await tryLockConsistencyCheck(tx))) return 'busy';
    return checkHoldingLock(tx, now, settings);
  });
}
