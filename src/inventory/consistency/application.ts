/**
 * The consistency application: what the admin routes call to run the check, list its findings,
 * fix them, and run the expiry sweep now.
 */
import type { Pool } from 'pg';
import type { Caller } from '../../auth/tokens';
import type { Config } from '../../config';
import { countOpenFindingsByKind, listFindings } from '../../db/consistency-store';
import { scopeOf } from '../../domain/ownership';
import { checkAnswerFindingLimit, type CheckResult, type FindingFix, type FindingSearch, type Finding, type OrderFix } from '../../schemas/consistency';
import type { AllocationDispatcher } from '../jobs/allocation-dispatch';
import { expireReservations } from '../reservations/expire';
import { runConsistencyCheck } from './check';
import { fixFinding, fixOrder, type FixContext } from './fix';
import { findingView, openByKindOf } from './views';

export type ConsistencyApp = {
  /** Runs the check now (after a check already running ends) and answers what it found. */
  check(): Promise<CheckResult>;
  /** One page of findings, newest first. */
  list(query: FindingSearch): Promise<{ items: Finding[]; nextCursor: string | null }>;
  /** Repairs what one finding reports, or refuses with why (409). */
  fixFinding(caller: Caller, id: string): Promise<FindingFix>;
  /** Repairs every inconsistency of an order (of one owner, or of every owner's order of that id). */
  fixOrder(caller: Caller, orderId: string, owner: string | undefined): Promise<OrderFix>;
  /** Runs the expiry sweep now; how many holds it expired. */
  expireNow(): Promise<{ expired: number }>;
};

/** A page of findings after `cursor`, newest first. */
async function pageOf(pool: Pool, query: FindingSearch): Promise<{ items: Finding[]; nextCursor: string | null }> {
  const rows = await listFindings(
    pool,
    {
      ...(query.kind === undefined ? {} : { kinds: query.kind }),
      ...(query.open === undefined ? {} : { open: query.open }),
      ...(query.subjectType === undefined ? {} : { subjectType: query.subjectType }),
      ...(query.subjectId === undefined ? {} : { subjectId: query.subjectId }),
    },
    { limit: query.limit + 1, ...(query.cursor === undefined ? {} : { afterId: query.cursor }) },
  );
  const page = rows.slice(0, query.limit);
  return { items: page.map(findingView), nextCursor: rows.length > query.limit ? page.at(-1)!.id : null };
}

/** The consistency application of one api process; `dispatcher` publishes the jobs a fix requeues. */
export function createConsistencyApp(deps: { pool: Pool; config: Config; dispatcher: AllocationDispatcher }): ConsistencyApp {
  const { pool, config } = deps;
  const fixDeps = { pool, settings: config, dispatcher: deps.dispatcher };
  const contextOf = (caller: Caller): FixContext => ({ now: new Date(), actor: caller.sub, scope: scopeOf(caller) });
  return {
    async check() {
      const summary = await runConsistencyCheck(pool, config);
      const [counts, open] = await Promise.all([countOpenFindingsByKind(pool), pageOf(pool, { open: true, limit: checkAnswerFindingLimit })]);
      return {
        checkedAt: summary.checkedAt,
        appeared: summary.appeared,
        seenAgain: summary.seenAgain,
        resolved: summary.resolved,
        openByKind: openByKindOf(counts),
        findings: open.items,
        nextCursor: open.nextCursor,
      };
    },
    list: (query) => pageOf(pool, query),
    fixFinding: (caller, id) => fixFinding(fixDeps, id, contextOf(caller)),
    fixOrder: (caller, orderId, owner) => fixOrder(fixDeps, orderId, owner, contextOf(caller)),
    async expireNow() {
      return { expired: await expireReservations(pool, { now: new Date(), batchSize: config.EXPIRY_SWEEP_BATCH_SIZE }) };
    },
  };
}
