import type { Pool } from 'pg';
import type { z } from 'zod';
import type { DeadLetterRecord } from '../amqp/settle';
import { withTransaction, type Transaction } from '../db/client';
import { markEventProcessed } from '../db/consumer-store';
import { insertDeadLetters } from '../db/dead-letter-store';
import { isTransientDatabaseError, translatePgError } from '../db/pg-errors';
import { AppError } from '../errors';

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

/** How one consumer reads and applies the events of its queue. */
export type EventSpec<E extends { eventId: string; type: string }> = {
  /** the name deduplication is kept under (processed_events.consumer) */
  consumer: string;
  schema: z.ZodType<E>;
  /** the effect, for the owner the event's publisher is bound to, in the transaction that also records the event as processed */
  apply(tx: Transaction, event: E, owner: string): Promise<void>;
};

/** What became of an event: applied, already applied, worth another try, or never going to work. */
export type ConsumeOutcome = { kind: 'processed' | 'duplicate' } | { kind: 'retry'; error: string } | { kind: 'dead'; reason: string; error: string };

/**
 * Applies an event once. A failure that may pass (database away, a conflict with a concurrent
 * change, something the event refers to not there yet, an unexpected error) asks for a retry; a
 * refusal that will not change (bad input, not enough stock, an invalid transition) is final and
 * names its error code as the reason.
 */
export async function applyEventOnce<E extends { eventId: string; type: string }>(
  pool: Pool,
  spec: EventSpec<E>,
  event: E,
  owner: string,
): Promise<ConsumeOutcome> {
  try {
    const kind = await consumeOnce(pool, { consumer: spec.consumer, eventId: event.eventId, eventType: event.type }, (tx) => spec.apply(tx, event, owner));
    return { kind };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (isTransientDatabaseError(error)) return { kind: 'retry', error: message };
    const translated = translatePgError(error);
    if (!(translated instanceof AppError)) return { kind: 'retry', error: message };
    if (translated.code === 'NOT_FOUND' || translated.code === 'DEPENDENCY_UNAVAILABLE') return { kind: 'retry', error: translated.message };
    return { kind: 'dead', reason: translated.code.toLowerCase(), error: translated.message };
  }
}

/** Keeps consumed messages given up on, for operators to inspect, replay (back to their queue) or purge; one transaction. */
export async function keepDeadLetters(pool: Pool, letters: readonly DeadLetterRecord[]): Promise<void> {
  await withTransaction(pool, (tx) => insertDeadLetters(tx, letters));
}
