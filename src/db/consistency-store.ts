/** The consistency check's SQL: what it looks for, the findings it keeps, and the lock that lets one check run at a time. */
import type { DetectedIssue, FindingKind, FindingSubject, OpenFinding } from '../domain/consistency';
import { queryRow, queryRows, type Queryable, type Transaction } from './client';
import { publishedUnfinishedSql } from './allocation-store';
import { lapsedHoldSql } from './reservation-store';
import { raw, sql, toQuery, whereAll, type Sql } from './sql';

/** The advisory lock key the consistency check holds while it runs (transaction-scoped). */
const CHECK_LOCK = `hashtextextended('stockroom.consistency-check', 0)`;

/** Takes the consistency check's lock for the transaction if no one holds it; false when another check runs. */
export async function tryLockConsistencyCheck(tx: Transaction): Promise<boolean> {
  const row = await queryRow<{ locked: boolean }>(tx, `select pg_try_advisory_xact_lock(${CHECK_LOCK}) as locked`);
  return row?.locked === true;
}

/** Takes the consistency check's lock for the transaction, waiting for a check that runs to end. */
export async function lockConsistencyCheck(tx: Transaction): Promise<void> {
  await tx.query(`select pg_advisory_xact_lock(${CHECK_LOCK})`);
}

/** Which subjects a detection looks at: all, one order's (of one owner, or of every owner), or named ones. */
export type DetectionScope = { orderId?: string; owner?: string; subjectIds?: readonly string[] };

/** The conditions on reservations `r` that a scope names. */
function reservationScope(scope: DetectionScope): Sql[] {
  const conditions: Sql[] = [];
  if (scope.orderId !== undefined) conditions.push(sql`r.order_id = ${scope.orderId}`);
  if (scope.owner !== undefined) conditions.push(sql`r.owner = ${scope.owner}`);
  if (scope.subjectIds !== undefined) conditions.push(sql`r.id::text = any(${scope.subjectIds}::text[])`);
  return conditions;
}

type ReservationIssueRow = { id: string; owner: string; orderId: string; expiresAt: Date; createdAt: Date };

const issueOfReservation = (kind: FindingKind, row: ReservationIssueRow, extra: Record<string, unknown> = {}): DetectedIssue => ({
  kind,
  subjectType: 'reservation',
  subjectId: row.id,
  detail: { owner: row.owner, orderId: row.orderId, expiresAt: row.expiresAt.toISOString(), createdAt: row.createdAt.toISOString(), ...extra },
});

const reservationIssueColumns = raw(`r.id, r.owner, r.order_id as "orderId", r.expires_at as "expiresAt", r.created_at as "createdAt"`);

/** RESERVED reservations whose hold ended by `overdueBefore` (now less the grace the sweeper gets): the expiry sweeper left them. */
export async function findOverdueHolds(db: Queryable, overdueBefore: Date, scope: DetectionScope = {}): Promise<DetectedIssue[]> {
  const { text, values } = toQuery(
    sql`select ${reservationIssueColumns} from reservations r ${whereAll([lapsedHoldSql(overdueBefore), ...reservationScope(scope)])} order by r.expires_at, r.id`,
  );
  const rows = await queryRows<ReservationIssueRow>(db, text, values);
  return rows.map((row) => issueOfReservation('overdue_hold', row));
}

/** Reservations still holding stock (RESERVED, hold not ended) for an order an OrderCancelled event cancelled. */
export async function findCancelledOrderHolds(db: Queryable, now: Date, scope: DetectionScope = {}): Promise<DetectedIssue[]> {
  const { text, values } = toQuery(
    sql`select ${reservationIssueColumns}, c.cancelled_at as "cancelledAt", c.event_id as "eventId"
          from reservations r
          join order_cancellations c on c.owner = r.owner and c.order_id = r.order_id
          ${whereAll([sql`r.status = 'RESERVED'`, sql`not ${lapsedHoldSql(now)}`, ...reservationScope(scope)])}
         order by r.created_at, r.id`,
  );
  const rows = await queryRows<ReservationIssueRow & { cancelledAt: Date; eventId: string }>(db, text, values);
  return rows.map((row) => issueOfReservation('cancelled_order_hold', row, { cancelledAt: row.cancelledAt.toISOString(), cancelledByEvent: row.eventId }));
}

/** Reservations held (RESERVED, hold not ended) since before `heldSince`. */
export async function findLongHolds(db: Queryable, now: Date, heldSince: Date, scope: DetectionScope = {}): Promise<DetectedIssue[]> {
  const { text, values } = toQuery(
    sql`select ${reservationIssueColumns} from reservations r
          ${whereAll([sql`r.status = 'RESERVED'`, sql`not ${lapsedHoldSql(now)}`, sql`r.created_at < ${heldSince}::timestamptz`, ...reservationScope(scope)])}
         order by r.created_at, r.id`,
  );
  const rows = await queryRows<ReservationIssueRow>(db, text, values);
  return rows.map((row) => issueOfReservation('long_hold', row));
}

/**
 * SQL mirror of unitDisagreements (src/domain/units.ts): the serial-tracked lots where, for some
 * reservation, the units Reserved, Sold or Delivered differ in number from what its lines on the lot
 * say (held; allocated and not shipped; shipped), or where such units belong to no reservation. A scope
 * of an order (and owner) looks at the lots its reservations have lines or units on; `subjectIds` names lots.
 */
export async function findUnitMismatchLots(db: Queryable, scope: DetectionScope = {}): Promise<string[]> {
  const lotIn = (column: Sql): Sql[] => {
    const conditions: Sql[] = [];
    if (scope.orderId !== undefined || scope.owner !== undefined) {
      const ofOrder = whereAll(
        reservationScope({ ...(scope.orderId === undefined ? {} : { orderId: scope.orderId }), ...(scope.owner === undefined ? {} : { owner: scope.owner }) }),
      );
      conditions.push(sql`${column} in (select l.lot_id from reservation_lines l join reservations r on r.id = l.reservation_id ${ofOrder}
                                 union select u.lot_id from stock_units u join reservations r on r.id = u.reservation_id ${ofOrder})`);
    }
    if (scope.subjectIds !== undefined) conditions.push(sql`${column}::text = any(${scope.subjectIds}::text[])`);
    return conditions;
  };
  const { text, values } = toQuery(sql`
    with expected as (
      select l.lot_id, l.reservation_id,
             sum(l.quantity - l.allocated_quantity - l.released_quantity - l.moved_quantity)::int as reserved,
             sum(l.allocated_quantity - l.shipped_quantity)::int as sold,
             sum(l.shipped_quantity)::int as delivered
        from reservation_lines l join products p on p.id = l.product_id
       ${whereAll([sql`p.tracking = 'serial'`, ...lotIn(raw('l.lot_id'))])}
       group by l.lot_id, l.reservation_id),
    actual as (
      -- units of no reservation meet no line: the nil uuid stands for none, so the full join can match on it
      select u.lot_id, coalesce(u.reservation_id, '00000000-0000-0000-0000-000000000000'::uuid) as reservation_id,
             (count(*) filter (where u.status = 'RESERVED'))::int as reserved,
             (count(*) filter (where u.status = 'SOLD'))::int as sold,
             (count(*) filter (where u.status = 'DELIVERED'))::int as delivered
        from stock_units u
       ${whereAll([sql`u.status in ('RESERVED', 'SOLD', 'DELIVERED')`, ...lotIn(raw('u.lot_id'))])}
       group by u.lot_id, u.reservation_id)
    select distinct coalesce(e.lot_id, a.lot_id) as "lotId"
      from expected e full join actual a on a.lot_id = e.lot_id and a.reservation_id = e.reservation_id
     where (coalesce(e.reserved, 0), coalesce(e.sold, 0), coalesce(e.delivered, 0))
           is distinct from (coalesce(a.reserved, 0), coalesce(a.sold, 0), coalesce(a.delivered, 0))
     order by 1`);
  const rows = await queryRows<{ lotId: string }>(db, text, values);
  return rows.map((row) => row.lotId);
}

/** Published allocation jobs left unfinished with no change since before `stuckBefore` (by the index of unfinished jobs). */
export async function findStuckJobs(db: Queryable, stuckBefore: Date, scope: DetectionScope = {}): Promise<DetectedIssue[]> {
  const conditions = [raw(publishedUnfinishedSql), sql`a.updated_at < ${stuckBefore}::timestamptz`];
  if (scope.orderId !== undefined) conditions.push(sql`a.reference_id = ${scope.orderId}`);
  if (scope.owner !== undefined) conditions.push(sql`a.owner = ${scope.owner}`);
  if (scope.subjectIds !== undefined) conditions.push(sql`a.id::text = any(${scope.subjectIds}::text[])`);
  const { text, values } = toQuery(
    sql`select a.id, a.owner, a.reference_id as "referenceId", a.attempts, a.started_at as "startedAt", a.updated_at as "updatedAt"
          from allocation_requests a ${whereAll(conditions)} order by a.updated_at, a.id`,
  );
  const rows = await queryRows<{ id: string; owner: string; referenceId: string; attempts: number; startedAt: Date | null; updatedAt: Date }>(db, text, values);
  return rows.map((row) => ({
    kind: 'stuck_job',
    subjectType: 'allocation',
    subjectId: row.id,
    detail: {
      owner: row.owner,
      referenceId: row.referenceId,
      attempts: row.attempts,
      startedAt: row.startedAt?.toISOString() ?? null,
      lastChangeAt: row.updatedAt.toISOString(),
    },
  }));
}

/** How many published allocation jobs are left unfinished with no change since before `stuckBefore`. */
export async function countStuckJobs(db: Queryable, stuckBefore: Date): Promise<number> {
  const row = await queryRow<{ count: number }>(
    db,
    `select count(*)::int as count from allocation_requests a where ${publishedUnfinishedSql} and a.updated_at < $1::timestamptz`,
    [stuckBefore],
  );
  return row?.count ?? 0;
}

/** Records that an OrderCancelled event cancelled the order; the first cancellation of an order is kept. */
export async function recordOrderCancellation(tx: Transaction, cancellation: { owner: string; orderId: string; eventId: string; at: Date }): Promise<void> {
  await tx.query(`insert into order_cancellations (owner, order_id, event_id, cancelled_at) values ($1, $2, $3, $4) on conflict do nothing`, [
    cancellation.owner,
    cancellation.orderId,
    cancellation.eventId,
    cancellation.at,
  ]);
}

/** A stored finding. */
export type FindingRow = OpenFinding & {
  detail: Record<string, unknown>;
  firstSeenAt: Date;
  lastSeenAt: Date;
  resolvedAt: Date | null;
  resolution: string | null;
};

const findingColumns = `f.id, f.kind, f.subject_type as "subjectType", f.subject_id as "subjectId", f.detail,
  f.first_seen_at as "firstSeenAt", f.last_seen_at as "lastSeenAt", f.resolved_at as "resolvedAt", f.resolution`;

/** Every open finding, locked: the check that holds the check lock is the only writer, the lock keeps fix calls out meanwhile. */
export async function lockOpenFindings(tx: Transaction): Promise<OpenFinding[]> {
  return queryRows<OpenFinding>(
    tx,
    `select f.id, f.kind, f.subject_type as "subjectType", f.subject_id as "subjectId" from consistency_findings f
      where f.resolved_at is null order by f.id for update`,
  );
}

/** Open findings about these subjects, locked. */
export async function lockOpenFindingsOf(tx: Transaction, subjects: readonly { subjectType: FindingSubject; subjectId: string }[]): Promise<FindingRow[]> {
  if (subjects.length === 0) return [];
  return queryRows<FindingRow>(
    tx,
    `select ${findingColumns} from consistency_findings f
      where f.resolved_at is null and (f.subject_type, f.subject_id) in (select * from unnest($1::text[], $2::text[]))
      order by f.id for update`,
    [subjects.map((subject) => subject.subjectType), subjects.map((subject) => subject.subjectId)],
  );
}

/** Stores findings that first appeared, in one statement. */
export async function insertFindings(tx: Transaction, findings: readonly (DetectedIssue & { id: string })[], now: Date): Promise<void> {
  if (findings.length === 0) return;
  await tx.query(
    `insert into consistency_findings (id, kind, subject_type, subject_id, detail, first_seen_at, last_seen_at)
     select id, kind, subject_type, subject_id, detail, $6, $6 from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[])
       as f(id, kind, subject_type, subject_id, detail)`,
    [
      findings.map((finding) => finding.id),
      findings.map((finding) => finding.kind),
      findings.map((finding) => finding.subjectType),
      findings.map((finding) => finding.subjectId),
      findings.map((finding) => JSON.stringify(finding.detail)),
      now,
    ],
  );
}

/** Open findings seen again: last seen now, with the detail they have now. */
export async function touchFindings(tx: Transaction, seen: readonly { id: string; detail: Record<string, unknown> }[], now: Date): Promise<void> {
  if (seen.length === 0) return;
  await tx.query(
    `update consistency_findings f set last_seen_at = $3, detail = s.detail
       from unnest($1::uuid[], $2::jsonb[]) as s(id, detail) where f.id = s.id`,
    [seen.map((finding) => finding.id), seen.map((finding) => JSON.stringify(finding.detail)), now],
  );
}

/** Resolves open findings, saying how. */
export async function resolveFindings(tx: Transaction, ids: readonly string[], now: Date, resolution: string): Promise<void> {
  if (ids.length === 0) return;
  await tx.query(`update consistency_findings set resolved_at = $2, resolution = $3 where id = any($1::uuid[]) and resolved_at is null`, [
    ids,
    now,
    resolution,
  ]);
}

export async function findFinding(db: Queryable, id: string): Promise<FindingRow | undefined> {
  return queryRow<FindingRow>(db, `select ${findingColumns} from consistency_findings f where f.id = $1`, [id]);
}

export async function lockFinding(tx: Transaction, id: string): Promise<FindingRow | undefined> {
  return queryRow<FindingRow>(tx, `select ${findingColumns} from consistency_findings f where f.id = $1 for update`, [id]);
}

export async function findFindingsById(db: Queryable, ids: readonly string[]): Promise<FindingRow[]> {
  if (ids.length === 0) return [];
  return queryRows<FindingRow>(
    db,
    `select ${findingColumns} from consistency_findings f where f.id = any($1::uuid[]) order by f.first_seen_at desc, f.id desc`,
    [ids],
  );
}

/** What GET /admin/consistency narrows to; every given field applies. */
export type FindingFilter = { kinds?: readonly FindingKind[]; open?: boolean; subjectType?: FindingSubject; subjectId?: string };

/** A page of findings, newest first, after the finding `afterId` when given. */
export async function listFindings(db: Queryable, filter: FindingFilter, page: { afterId?: string; limit: number }): Promise<FindingRow[]> {
  const conditions: Sql[] = [];
  if (filter.kinds !== undefined) conditions.push(sql`f.kind = any(${filter.kinds}::text[])`);
  if (filter.open !== undefined) conditions.push(filter.open ? sql`f.resolved_at is null` : sql`f.resolved_at is not null`);
  if (filter.subjectType !== undefined) conditions.push(sql`f.subject_type = ${filter.subjectType}`);
  if (filter.subjectId !== undefined) conditions.push(sql`f.subject_id = ${filter.subjectId}`);
  if (page.afterId !== undefined) {
    conditions.push(sql`(f.first_seen_at, f.id) < (select c.first_seen_at, c.id from consistency_findings c where c.id = ${page.afterId}::uuid)`);
  }
  const { text, values } = toQuery(
    sql`select ${raw(findingColumns)} from consistency_findings f ${whereAll(conditions)} order by f.first_seen_at desc, f.id desc limit ${page.limit}`,
  );
  return queryRows<FindingRow>(db, text, values);
}

/** Open findings by kind. */
export async function countOpenFindingsByKind(db: Queryable): Promise<{ kind: FindingKind; count: number }[]> {
  return queryRows(db, `select kind, count(*)::int as count from consistency_findings where resolved_at is null group by kind`);
}
