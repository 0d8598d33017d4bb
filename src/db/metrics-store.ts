import type { Priority } from '../domain/priority';
import type { AllocationStatus, DeadLetter } from '../schemas/allocations';
import { queryRow, queryRows, type Queryable } from './client';
import { effectiveStatusSql, lapsedHoldSql } from './reservation-store';
import { sql, toQuery } from './sql';
import { overdueTransferSql } from './transfer-store';

/** How many reservations read as each status at `now` (a lapsed RESERVED hold counts as EXPIRED). */
export async function countReservationsByStatus(db: Queryable, now: Date): Promise<{ status: string; count: number }[]> {
  const { text, values } = toQuery(sql`select ${effectiveStatusSql(now)} as status, count(*)::int as count from reservations r group by 1`);
  return queryRows<{ status: string; count: number }>(db, text, values);
}

/** How many transfers are overdue at `now`: units still on their way at or after their expected delivery. */
export async function countOverdueTransfers(db: Queryable, now: Date): Promise<number> {
  const { text, values } = toQuery(sql`select count(*)::int as count from transfers t where ${overdueTransferSql(now)}`);
  return (await queryRow<{ count: number }>(db, text, values))?.count ?? 0;
}

/** How many lots hold more reserved plus allocated than on hand; the CHECK constraints keep this at 0. */
export async function countOversoldLots(db: Queryable): Promise<number> {
  const row = await queryRow<{ count: number }>(
    db,
    `select count(*)::int as count from inventory_items where reserved_quantity + allocated_quantity > quantity`,
  );
  return row?.count ?? 0;
}

/** Jobs accepted and finished since a moment, and the accept → result times of those finished, by the database's clock. */
export type JobFigures = { at: Date; accepted: number; succeeded: number; failed: number; p50Ms: number | null; p99Ms: number | null };

/**
 * Counts the jobs accepted (created_at) and finished (completed_at) since `since`, with the 50th and
 * 99th percentile of accept → result among those finished, in one statement on the time indexes.
 */
export async function sampleJobFigures(db: Queryable, since: Date): Promise<JobFigures> {
  const row = await queryRow<JobFigures>(
    db,
    `select now() as at,
            (select count(*)::int from allocation_requests where created_at >= $1) as accepted,
            count(*) filter (where r.status in ('succeeded', 'partial'))::int as succeeded,
            count(*) filter (where r.status = 'failed')::int as failed,
            percentile_cont(0.5) within group (order by extract(epoch from r.completed_at - a.created_at) * 1000) as "p50Ms",
            percentile_cont(0.99) within group (order by extract(epoch from r.completed_at - a.created_at) * 1000) as "p99Ms"
       from allocation_results r join allocation_requests a on a.id = r.allocation_id
      where r.completed_at >= $1`,
    [since],
  );
  return row!;
}

/** Jobs accepted and not started yet (or back in a retry queue), per priority. */
export async function countQueuedByPriority(db: Queryable): Promise<{ priority: Priority; count: number }[]> {
  return queryRows(db, `select priority, count(*)::int as count from allocation_requests where status = 'queued' group by priority`);
}

/** How long the oldest job accepted and not started yet (or back in a retry queue) has waited, in seconds; 0 when none waits. */
export async function oldestQueuedJobAge(db: Queryable): Promise<number> {
  const row = await queryRow<{ ageSeconds: number }>(
    db,
    `select coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as "ageSeconds" from allocation_requests where status = 'queued'`,
  );
  return row?.ageSeconds ?? 0;
}

/** Dead letters waiting for an operator. */
export async function countOpenDeadLetters(db: Queryable): Promise<number> {
  const row = await queryRow<{ count: number }>(db, `select count(*)::int as count from dead_letters where status = 'open'`);
  return row?.count ?? 0;
}

/** RESERVED holds past their expiry at `now`: stock the sweeper has not given back yet. */
export async function countOverdueReservations(db: Queryable, now: Date): Promise<number> {
  const { text, values } = toQuery(sql`select count(*)::int as count from reservations r where ${lapsedHoldSql(now)}`);
  return (await queryRow<{ count: number }>(db, text, values))?.count ?? 0;
}

/** Dead letters waiting for an operator, by the queue they came from and their reason. */
export async function countOpenDeadLettersByReason(db: Queryable): Promise<{ queue: string; reason: string; count: number }[]> {
  return queryRows(db, `select queue, reason, count(*)::int as count from dead_letters where status = 'open' group by queue, reason`);
}

/** Outbox events not yet confirmed by the broker, and how long the oldest has waited. */
export async function outboxBacklog(db: Queryable): Promise<{ pending: number; lagSeconds: number }> {
  const row = await queryRow<{ pending: number; lagSeconds: number }>(
    db,
    `select count(*)::int as pending, coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as "lagSeconds"
       from outbox_events where published_at is null`,
  );
  return row!;
}

/** A job accepted or finished within a time span. */
export type JobChangeRow = { allocationId: string; status: AllocationStatus; priority: Priority; referenceId: string; at: Date };

/** Jobs accepted or finished in (after, until], oldest first, at most `limit`. */
export async function listJobChanges(db: Queryable, after: Date, until: Date, limit: number): Promise<JobChangeRow[]> {
  return queryRows<JobChangeRow>(
    db,
    `select * from (
        select a.id as "allocationId", 'queued' as status, a.priority, a.reference_id as "referenceId", a.created_at as at
          from allocation_requests a where a.created_at > $1 and a.created_at <= $2
        union all
        select a.id, r.status, a.priority, a.reference_id, r.completed_at
          from allocation_results r join allocation_requests a on a.id = r.allocation_id
         where r.completed_at > $1 and r.completed_at <= $2
      ) changes
      order by at desc limit $3`,
    [after, until, limit],
  );
}

/** A dead letter that arrived or was replayed within a time span. */
export type DeadLetterChangeRow = Pick<DeadLetter, 'id' | 'queue' | 'allocationId' | 'reason' | 'status'> & { at: Date };

/** Dead letters that arrived or were replayed in (after, until], newest first, at most `limit`. */
export async function listDeadLetterChanges(db: Queryable, after: Date, until: Date, limit: number): Promise<DeadLetterChangeRow[]> {
  return queryRows<DeadLetterChangeRow>(
    db,
    `select * from (
        select id, queue, allocation_id as "allocationId", reason, 'open' as status, created_at as at
          from dead_letters where created_at > $1 and created_at <= $2
        union all
        select id, queue, allocation_id, reason, 'replayed', replayed_at
          from dead_letters where replayed_at > $1 and replayed_at <= $2
      ) changes
      order by at desc limit $3`,
    [after, until, limit],
  );
}
