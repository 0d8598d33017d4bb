import type { DeadLetter } from '../schemas/allocations';
import { queryRow, queryRows, type Queryable, type Transaction } from './client';

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

/** Keeps messages that could not be processed, in one statement. */
export async function insertDeadLetters(tx: Transaction, letters: readonly NewDeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  await tx.query(
    `insert into dead_letters (id, queue, allocation_id, reason, attempts, first_error, last_error, payload, headers)
     select * from unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::int[], $6::text[], $7::text[], $8::jsonb[], $9::jsonb[])`,
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

/** Dead letters, newest first, optionally of one status. */
export async function listDeadLetters(db: Queryable, filter: { status?: DeadLetter['status']; limit: number; offset: number }): Promise<DeadLetter[]> {
  return queryRows<DeadLetter>(
    db,
    `select ${columns} from dead_letters where ($1::text is null or status = $1) order by created_at desc, id desc limit $2 offset $3`,
    [filter.status ?? null, filter.limit, filter.offset],
  );
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
