import { queryRow, type Queryable, type Transaction } from './client';

/**
 * Records that `consumer` handled `eventId`; false when it already had (the row exists). Run it in
 * the transaction of the event's effect: a second delivery then waits for the first to commit or
 * roll back, and sees the row only if the effect committed.
 */
export async function markEventProcessed(tx: Transaction, consumer: string, eventId: string, eventType: string): Promise<boolean> {
  const row = await queryRow(
    tx,
    `insert into processed_events (consumer, event_id, event_type) values ($1, $2, $3)
     on conflict do nothing returning event_id`,
    [consumer, eventId, eventType],
  );
  return row !== undefined;
}

/** A message kept for operators: what arrived, on which queue, and why it was not processed. */
export type NewDeadLetter = {
  id: string;
  queue: string;
  reason: string;
  attempts: number;
  firstError: string | null;
  lastError: string | null;
  payload: unknown;
  headers: Record<string, unknown>;
};

export async function insertDeadLetter(db: Queryable, letter: NewDeadLetter): Promise<void> {
  await db.query(
    `insert into dead_letters (id, queue, reason, attempts, first_error, last_error, payload, headers)
     values ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [letter.id, letter.queue, letter.reason, letter.attempts, letter.firstError, letter.lastError, JSON.stringify(letter.payload), JSON.stringify(letter.headers)],
  );
}
