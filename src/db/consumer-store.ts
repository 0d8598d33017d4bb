import { queryRow, type Transaction } from './client';

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
