import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import type { Transaction } from '../db/client';
import { insertOutboxEvents, lockAggregates } from '../db/outbox-store';
import { aggregateOf, inventoryEventSchema, routingKeys, type InventoryEvent, type InventoryEventJson, type NewEvent } from './schemas';

/** Fills in eventId, timestamp and aggregate, and checks the event against its schema (a bad event is a bug: it throws). */
export function completeEvent(event: NewEvent, now: Date = new Date()): { event: InventoryEvent; json: InventoryEventJson } {
  const full = { ...event, ...aggregateOf(event), eventId: event.eventId ?? uuidv7(), timestamp: event.timestamp ?? now } as InventoryEvent;
  return { event: full, json: z.encode(inventoryEventSchema, full) };
}

/**
 * Writes events into the outbox inside the caller's transaction, so they exist exactly when the
 * change they describe commits. Returns the completed events (with their eventIds).
 * Call it after the stock locks of the use case are taken: it locks each event's aggregate until
 * commit, which keeps the events of one aggregate in commit order.
 */
export async function recordEvents(tx: Transaction, events: readonly NewEvent[]): Promise<InventoryEvent[]> {
  if (events.length === 0) return [];
  const now = new Date();
  const completed = events.map((event) => completeEvent(event, now));
  await lockAggregates(
    tx,
    completed.map(({ event }) => `${event.aggregateType}:${event.aggregateId}`),
  );
  await insertOutboxEvents(
    tx,
    completed.map(({ event, json }) => ({
      eventId: event.eventId,
      eventType: event.type,
      routingKey: routingKeys[event.type],
      aggregateType: event.aggregateType,
      aggregateId: event.aggregateId,
      payload: json,
    })),
  );
  return completed.map(({ event }) => event);
}
