import type { Pool } from 'pg';
import { withTransaction, type Transaction } from '../db/client';
import { markEventProcessed } from '../db/consumer-store';

/** The identity of a consumed event, for deduplication. */
export type ConsumedEvent = { consumer: string; eventId: string; eventType: string };

/**
 * Runs `effect` for an event at most once per consumer: the processed_events row and the effect
 * commit together, so a redelivered event finds the row and changes nothing.
 */
export async function consumeOnce(pool: Pool, event: ConsumedEvent, effect: (tx: Transaction) => Promise<void>): Promise<'processed' | 'duplicate'> {
  return withTransaction(pool, async (tx) => {
    if (!(await markEventProcessed(tx, event.consumer, event.eventId, event.eventType))) return 'duplicate';
    await effect(tx);
    return 'processed';
  });
}
