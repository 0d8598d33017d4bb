/**
 * Fix calls (seed 004's fix tools): repair an inconsistency through the use case that would have
 * prevented it — expiry, release, publishing a job again — so the ledger, history and events stay
 * whole; say why when a kind is not repaired automatically.
 */
import type { Pool } from 'pg';
import { lockPublishedUnfinishedJob, markRepublished } from '../../db/allocation-store';
import { withTransaction, type Transaction } from '../../db/client';
import { findFinding, lockConsistencyCheck, lockFinding, lockOpenFindingsOf, resolveFindings, type FindingRow } from '../../db/consistency-store';
import { lockFor } from '../../db/locks';
import { findLinesOfLots, lockReservation } from '../../db/reservation-store';
import { findUnitsOfLots } from '../../db/unit-store';
import { commitWrites } from '../../db/writes';
import { remedyOf, type DetectedIssue, type FindingKind, type Remedy, type RemedyAction } from '../../domain/consistency';
import type { OwnerScope } from '../../domain/ownership';
import { effectiveStatus } from '../../domain/reservation';
import { isInStock, rederiveUnits } from '../../domain/units';
import { AppError, notFound } from '../../errors';
import type { FindingFix, FixResult, OrderFix } from '../../schemas/consistency';
import type { AllocationDispatcher } from '../jobs/allocation-dispatch';
import { expireHolds } from '../reservations/expire';
import { releaseReservation } from '../reservations/release';
import { detectKind, GONE, type CheckSettings } from './check';
import { findingView } from './views';

/** What fix calls need: the database, the thresholds of the check, and a dispatcher to publish jobs again. */
export type FixDeps = { pool: Pool; settings: CheckSettings; dispatcher: AllocationDispatcher };

/** Who fixes, and when: the admin's sub is the actor of the history and ledger rows a fix writes. */
export type FixContext = { now: Date; actor: string; scope: OwnerScope };

type Subject = Pick<DetectedIssue, 'kind' | 'subjectType' | 'subjectId'>;

const messages: Record<RemedyAction, string> = {
  rederive: "the lot's unit states were re-derived from its reservation lines",
  expire: 'the hold was expired: its stock is available again',
  release: 'the hold of the cancelled order was released: its stock is available again',
  requeue: 'the job was published again; a worker serves it (at most once, however many copies arrive)',
};

/** Repairs one subject through its kind's use case, in the caller's transaction; why not, when it turns out the subject may not be repaired automatically. */
async function applyRemedy(tx: Transaction, subject: Subject, action: RemedyAction, deps: FixDeps, ctx: FixContext): Promise<string | undefined> {
  switch (action) {
    case 'rederive':
      return rederiveLotUnits(tx, subject.subjectId, ctx);
    case 'expire': {
      const reservation = await lockReservation(tx, subject.subjectId);
      // the detection just saw it lapsed; locked, it still is unless it changed in between
      if (!reservation || reservation.status !== 'RESERVED' || effectiveStatus(reservation, ctx.now) !== 'EXPIRED') {
        throw new AppError('CONFLICT', `Reservation ${subject.subjectId} changed while it was being fixed; try again`);
      }
      await expireHolds(tx, [reservation], { now: ctx.now, by: 'consistency_fix', lots: 'products' });
      return undefined;
    }
    case 'release':
      await releaseReservation(tx, { reservationId: subject.subjectId, reason: 'order was cancelled (consistency fix)' }, ctx);
      return undefined;
    case 'requeue': {
      const job = await lockPublishedUnfinishedJob(tx, subject.subjectId);
      if (!job) throw new AppError('CONFLICT', `Allocation ${subject.subjectId} finished meanwhile; nothing to requeue`);
      const confirmed = await deps.dispatcher.publish([job]);
      if (confirmed.length === 0) throw new AppError('DEPENDENCY_UNAVAILABLE', 'RabbitMQ did not confirm the job; try again shortly');
      await markRepublished(tx, confirmed);
      return undefined;
    }
  }
}

/**
 * Re-derives the states of a serial-tracked lot's units from every reservation line on it
 * (rederiveUnits), under the lot's lock: the lines and the lot's quantities already agree, only the
 * units are set to what they say, each change of status a step of the unit's history.
 */
async function rederiveLotUnits(tx: Transaction, lotId: string, ctx: FixContext): Promise<string | undefined> {
  const { lots } = await lockFor(tx, { lotIds: [lotId] });
  const lot = lots[0];
  if (lot === undefined) return `lot ${lotId} no longer exists`;
  const [lines, units] = [await findLinesOfLots(tx, [lotId]), await findUnitsOfLots(tx, [lotId])];
  const rederived = rederiveUnits(
    lines,
    units.filter((unit) => isInStock(unit.status)),
    units.filter((unit) => unit.status === 'DELIVERED'),
    lot,
    { reason: 'consistency fix: re-derived from reservation lines', actor: ctx.actor },
  );
  if (!rederived.ok) return rederived.why;
  await commitWrites(tx, {
    unitChanges: rederived.changes.map((change) => ({ ...change, at: ctx.now })),
    unitSteps: rederived.steps.map((step) => ({ ...step, at: ctx.now })),
  });
  return undefined;
}

/**
 * Fixes one subject of a kind in the caller's transaction (which holds the check lock): looks
 * again whether the issue is still there, repairs it when its kind allows, and resolves the open
 * `finding` about it. A kind that may not be repaired answers not_fixable with why.
 */
async function fixSubject(tx: Transaction, subject: Subject, finding: FindingRow | undefined, deps: FixDeps, ctx: FixContext): Promise<FixResult> {
  const base = { findingId: finding?.id ?? null, kind: subject.kind, subjectType: subject.subjectType, subjectId: subject.subjectId };
  const still = await detectKind(tx, subject.kind, ctx.now, deps.settings, { subjectIds: [subject.subjectId] });
  if (still.length === 0) {
    if (finding) await resolveFindings(tx, [finding.id], ctx.now, GONE);
    return {
      ...base,
      outcome: 'no_longer_present',
      action: null,
      message: `the ${subject.kind} of ${subject.subjectType} ${subject.subjectId} is no longer there`,
    };
  }
  const remedy: Remedy = remedyOf[subject.kind];
  if (!remedy.fixable) return { ...base, outcome: 'not_fixable', action: null, message: remedy.why };
  const refused = await applyRemedy(tx, subject, remedy.action, deps, ctx);
  if (refused !== undefined) return { ...base, outcome: 'not_fixable', action: null, message: refused };
  if (finding) await resolveFindings(tx, [finding.id], ctx.now, `fixed by ${ctx.actor}: ${remedy.action}`);
  return { ...base, outcome: 'fixed', action: remedy.action, message: messages[remedy.action] };
}

/**
 * POST /admin/consistency/:id/fix: repairs what one finding reports. A resolved finding answers
 * already_resolved; one whose issue is gone is resolved (no_longer_present); a kind that may not be
 * repaired automatically is refused with 409 CONFLICT saying why, and changes nothing.
 */
export async function fixFinding(deps: FixDeps, id: string, ctx: FixContext): Promise<FindingFix> {
  const result = await withTransaction(deps.pool, async (tx) => {
    // fixes and checks take turns, so a check never reports what a fix is repairing
    await lockConsistencyCheck(tx);
    const finding = await lockFinding(tx, id);
    if (!finding) throw notFound('Finding', id);
    if (finding.resolvedAt !== null) {
      return {
        findingId: id,
        kind: finding.kind,
        subjectType: finding.subjectType,
        subjectId: finding.subjectId,
        outcome: 'already_resolved',
        action: null,
        message: `resolved: ${finding.resolution ?? ''}`,
      } satisfies FixResult;
    }
    const fixed = await fixSubject(tx, finding, finding, deps, ctx);
    if (fixed.outcome === 'not_fixable') {
      throw new AppError('CONFLICT', `Finding ${id} (${finding.kind}) cannot be fixed automatically: ${fixed.message}`, {
        findingId: id,
        kind: finding.kind,
        subjectType: finding.subjectType,
        subjectId: finding.subjectId,
      });
    }
    return fixed;
  });
  const finding = await findFinding(deps.pool, id);
  return { result, finding: findingView(finding!) };
}

/** The kinds an order can have, in the order they are fixed: units first (every other repair moves units by their reservation lines), then an overdue hold is expired before anything else looks at it. */
const orderKinds: readonly FindingKind[] = ['unit_mismatch', 'overdue_hold', 'cancelled_order_hold', 'stuck_job', 'long_hold'];

/**
 * POST /admin/orders/:orderId/fix-inconsistencies: looks at the order's reservations and jobs (of
 * one owner, or every owner's order of that id) for every kind now, stored finding or not, and
 * fixes each in its own transaction; one result per inconsistency, not_fixable ones saying why.
 */
export async function fixOrder(deps: FixDeps, orderId: string, owner: string | undefined, ctx: FixContext): Promise<OrderFix> {
  const scope = { orderId, ...(owner === undefined ? {} : { owner }) };
  const results: FixResult[] = [];
  for (const kind of orderKinds) {
    const issues = await detectKind(deps.pool, kind, ctx.now, deps.settings, scope);
    for (const issue of issues) {
      results.push(
        await withTransaction(deps.pool, async (tx) => {
          await lockConsistencyCheck(tx);
          const findings = await lockOpenFindingsOf(tx, [issue]);
          return fixSubject(
            tx,
            issue,
            findings.find((finding) => finding.kind === issue.kind),
            deps,
            ctx,
          );
        }),
      );
    }
  }
  return { orderId, results };
}
