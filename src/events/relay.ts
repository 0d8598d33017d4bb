import type { Pool } from 'pg';
import type { EventPublisher } from '../amqp/event-publisher';
import { withTransaction } from '../db/client';
import { claimPendingEvents, deletePublishedEvents, markEventsFailed, markEventsPublished } from '../db/outbox-store';
import { eventPublishFailures, eventsPublished } from '../metrics';

/** What one relay round did. */
export type RelayRound = { claimed: number; published: number; failed: number };

export type RelayOptions = { batchSize: number; retryBaseMs: number; retryMaxMs: number };

/** Delay before the next try of an event that failed `attempts` times before: doubling from the base, capped. */
export function retryDelayMs(attempts: number, options: Pick<RelayOptions, 'retryBaseMs' | 'retryMaxMs'>): number {
  return Math.min(options.retryMaxMs, options.retryBaseMs * 2 ** Math.min(attempts, 30));
}

/**
 * One relay round in one transaction: claim due events (rows locked, other relays skip them),
 * publish them with confirms, then mark the confirmed ones published and give the others a later
 * try. If the process dies after publishing but before the commit, nothing is marked and the events
 * go out again: delivery is at least once, and consumers dedupe by eventId (the AMQP messageId).
 */
export async function relayOutboxRound(pool: Pool, publisher: EventPublisher, options: RelayOptions): Promise<RelayRound> {
  const publishedTypes: string[] = [];
  const round = await withTransaction(pool, async (tx) => {
    const events = await claimPendingEvents(tx, options.batchSize);
    if (events.length === 0) return { claimed: 0, published: 0, failed: 0 };
    const outcomes = await publisher.publish(events);

    const published: string[] = [];
    const failures: { id: string; error: string; retryInMs: number }[] = [];
    // Confirmed events are done; a refused or unconfirmed one is tried again later and, until it
    // goes out, holds back the later events of its aggregate (see claimPendingEvents).
    events.forEach((event, index) => {
      const error = outcomes[index];
      if (error) failures.push({ id: event.id, error: error.message.slice(0, 1000), retryInMs: retryDelayMs(event.attempts, options) });
      else {
        published.push(event.id);
        publishedTypes.push(event.eventType);
      }
    });
    await markEventsPublished(tx, published);
    await markEventsFailed(tx, failures);
    return { claimed: events.length, published: published.length, failed: failures.length };
  });
  for (const type of publishedTypes) eventsPublished.inc({ type });
  if (round.failed > 0) eventPublishFailures.inc(round.failed);
  return round;
}

/** Deletes events published more than `retentionHours` ago, in chunks; returns how many went. */
export async function pruneOutbox(pool: Pool, options: { retentionHours: number; now?: Date; chunkSize?: number }): Promise<number> {
  const before = new Date((options.now ?? new Date()).getTime() - options.retentionHours * 3_600_000);
  const chunkSize = options.chunkSize ?? 5000;
  let total = 0;
  for (;;) {
    const deleted = await deletePublishedEvents(pool, before, chunkSize);
    total += deleted;
    if (deleted < chunkSize) return total;
  }
}
