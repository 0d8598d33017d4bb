import type { Pool } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import type { z } from 'zod';
import { withTransaction, type Transaction } from '../db/client';
import { markEventProcessed } from '../db/consumer-store';
import { insertDeadLetters } from '../db/dead-letter-store';
import { isConnectionError, isRetryableTransactionError, translatePgError } from '../db/pg-errors';
import { AppError } from '../errors';
import { UNPARSEABLE } from '../inventory/jobs/dead-letters';

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
  /** the effect, in the transaction that also records the event as processed */
  apply(tx: Transaction, event: E): Promise<void>;
};

/** A message read: its event, or why it carries none (never worth retrying). */
export type ReadEvent<E> = { ok: true; event: E } | { ok: false; reason: string; error: string; payload: unknown };

/** Parses and validates a message body against the consumer's schema. */
export function readEvent<E extends { eventId: string; type: string }>(spec: EventSpec<E>, body: Buffer): ReadEvent<E> {
  const text = body.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: UNPARSEABLE, error: `not JSON: ${(error as Error).message}`, payload: { raw: text } };
  }
  const parsed = spec.schema.safeParse(json);
  if (parsed.success) return { ok: true, event: parsed.data };
  const error = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'event'}: ${issue.message}`).join('; ');
  return { ok: false, reason: 'invalid_event', error, payload: json };
}

/** What became of an event: applied, already applied, worth another try, or never going to work. */
export type ConsumeOutcome = { kind: 'processed' | 'duplicate' } | { kind: 'retry'; error: string } | { kind: 'dead'; reason: string; error: string };

/**
 * Applies an event once. A failure that may pass (database away, a conflict with a concurrent
 * change, something the event refers to not there yet, an unexpected error) asks for a retry; a
 * refusal that will not change (bad input, not enough stock, an invalid transition) is final and
 * names its error code as the reason.
 */
export async function applyEventOnce<E extends { eventId: string; type: string }>(pool: Pool, spec: EventSpec<E>, event: E): Promise<ConsumeOutcome> {
  try {
    const kind = await consumeOnce(pool, { consumer: spec.consumer, eventId: event.eventId, eventType: event.type }, (tx) => spec.apply(tx, event));
    return { kind };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (isRetryableTransactionError(error) || isConnectionError(error)) return { kind: 'retry', error: message };
    const translated = translatePgError(error);
    if (!(translated instanceof AppError)) return { kind: 'retry', error: message };
    if (translated.code === 'NOT_FOUND' || translated.code === 'DEPENDENCY_UNAVAILABLE') return { kind: 'retry', error: translated.message };
    return { kind: 'dead', reason: translated.code.toLowerCase(), error: translated.message };
  }
}

/** A consumed message given up on, for the dead_letters table. */
export type ConsumerDeadLetter = {
  queue: string;
  reason: string;
  attempts: number;
  firstError: string | null;
  lastError: string;
  payload: unknown;
  headers: Record<string, unknown>;
};

/** Keeps a message operators can inspect, replay (back to `queue`) or purge; returns its id. */
export async function recordDeadLetter(pool: Pool, letter: ConsumerDeadLetter): Promise<string> {
  const id = uuidv7();
  await withTransaction(pool, (tx) => insertDeadLetters(tx, [{ id, allocationId: null, ...letter }]));
  return id;
}
