import type { DeadLetter } from '../schemas/allocations';
import { queryRow, queryRows, type Queryable, type Transaction } from './client';
import { raw, sql, toQuery, whereAll, type Sql } from './sql';

export type NewDeadLetter = {
  id: string;
  queue: string;
  allocationId: string | null;
  reason: string;
  attempts: number;
  firstError: string | null;
  lastError: string | null;
  payload: unknown;
  headers: Record<string, unknown>;
};

const columns = `
  id, queue, allocation_id as "allocationId", reason, attempts, first_error as "firstError", last_error as "lastError",
  payload, headers, status, created_at as "createdAt", replayed_at as "replayedAt"`;

/**
 * Keeps messages that could not be processed, in one statement. A letter naming a job that does not
 * exist (a message given up on unread, at its delivery limit) keeps no allocation id.
 */
export async function insertDeadLetters(tx: Transaction, letters: readonly NewDeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  await tx.query(
    `insert into dead_letters (id, queue, allocation_id, reason, attempts, first_error, last_error, payload, headers)
     select l.id, l.queue, a.id, l.reason, l.attempts, l.first_error, l.last_error, l.payload, l.headers
       from unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::int[], $6::text[], $7::text[], $8::jsonb[], $9::jsonb[])
            as l(id, queue, allocation_id, reason, attempts, first_error, last_error, payload, headers)
       left join allocation_requests a on a.id = l.allocation_id`,
    [
      letters.map((letter) => letter.id),
      letters.map((letter) => letter.queue),
      letters.map((letter) => letter.allocationId),
      letters.map((letter) => letter.reason),
      letters.map((letter) => letter.attempts),
      letters.map((letter) => letter.firstError),
      letters.map((letter) => letter.lastError),
      letters.map((letter) => JSON.stringify(letter.payload)),
      letters.map((letter) => JSON.stringify(letter.headers)),
    ],
  );
}

/** Which dead letters to take: every field set narrows the selection. */
export type DeadLetterSelection = {
  ids?: readonly string[];
  status?: DeadLetter['status'];
  reason?: string;
  queue?: string;
  from?: Date;
  to?: Date;
};

/** The conditions of a selection over dead_letters `d`. */
function selectionConditions(selection: DeadLetterSelection): Sql[] {
  const conditions: Sql[] = [];
  if (selection.ids !== undefined) conditions.push(sql`d.id = any(${selection.ids}::uuid[])`);
  if (selection.status !== undefined) conditions.push(sql`d.status = ${selection.status}`);
  if (selection.reason !== undefined) conditions.push(sql`d.reason = ${selection.reason}`);
  if (selection.queue !== undefined) conditions.push(sql`d.queue = ${selection.queue}`);
  if (selection.from !== undefined) conditions.push(sql`d.created_at >= ${selection.from}`);
  if (selection.to !== undefined) conditions.push(sql`d.created_at < ${selection.to}`);
  return conditions;
}

/**
 * Dead letters of a selection, newest first (by time, then id); `afterId` continues a listing after
 * the last letter seen. Reason, queue, status and time each have an index followed by (created_at, id).
 */
export async function listDeadLetters(db: Queryable, selection: DeadLetterSelection, page: { afterId?: string; limit: number }): Promise<DeadLetter[]> {
  const conditions = selectionConditions(selection);
  if (page.afterId !== undefined) {
    conditions.push(sql`(d.created_at, d.id) < (select c.created_at, c.id from dead_letters c where c.id = ${page.afterId}::uuid)`);
  }
  const { text, values } = toQuery(
    sql`select ${raw(columns)} from dead_letters d ${whereAll(conditions)} order by d.created_at desc, d.id desc limit ${page.limit}`,
  );
  return queryRows<DeadLetter>(db, text, values);
}

/** How many dead letters a selection holds. */
export async function countDeadLetters(db: Queryable, selection: DeadLetterSelection): Promise<number> {
  const { text, values } = toQuery(sql`select count(*)::int as count from dead_letters d ${whereAll(selectionConditions(selection))}`);
  const row = await queryRow<{ count: number }>(db, text, values);
  return row?.count ?? 0;
}

/** Purges the dead letters of a selection, at most `limit` of them (newest first), in one statement; returns the ids purged. */
export async function deleteDeadLetters(db: Queryable, selection: DeadLetterSelection, limit: number): Promise<string[]> {
  const { text, values } = toQuery(
    sql`delete from dead_letters where id in (select d.id from dead_letters d ${whereAll(selectionConditions(selection))} order by d.created_at desc, d.id desc limit ${limit}) returning id`,
  );
  const rows = await queryRows<{ id: string }>(db, text, values);
  return rows.map((row) => row.id);
}

export async function findDeadLetter(db: Queryable, id: string): Promise<DeadLetter | undefined> {
  return queryRow<DeadLetter>(db, `select ${columns} from dead_letters where id = $1`, [id]);
}

/** Locks one dead letter for a replay. */
export async function lockDeadLetter(tx: Transaction, id: string): Promise<DeadLetter | undefined> {
  return queryRow<DeadLetter>(tx, `select ${columns} from dead_letters where id = $1 for update`, [id]);
}

export async function markDeadLetterReplayed(tx: Transaction, id: string): Promise<DeadLetter> {
  const row = await queryRow<DeadLetter>(tx, `update dead_letters set status = 'replayed', replayed_at = now() where id = $1 returning ${columns}`, [id]);
  return row!;
}

/** Purges one dead letter; false when there was none. */
export async function deleteDeadLetter(db: Queryable, id: string): Promise<boolean> {
  const result = await db.query(`delete from dead_letters where id = $1`, [id]);
  return (result.rowCount ?? 0) > 0;
}
