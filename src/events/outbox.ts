import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { runTogether, type Statement, type Transaction } from '../db/client';
import { lockAggregates, outboxInsert } from '../db/outbox-store';
import { aggregateOf, inventoryEventSchema, routingKeys, type InventoryEvent, type InventoryEventJson, type NewEvent } from './schemas';

/** Fills in eventId, timestamp and aggregate, and checks the event against its schema (a bad event is a bug: it throws). */
export function completeEvent(event: NewEvent, now: Date = new Date()): { event: InventoryEvent; json: InventoryEventJson } {
  const full: InventoryEvent = { ...event, ...aggregateOf(event), eventId: event.eventId ?? uuidv7(), timestamp: event.timestamp ?? now };
  return { event: full, json: z.encode(inventoryEventSchema, full) };
}

/**
 * Writes events into the outbox inside the caller's transaction, so they exist exactly when the
 * change they describe commits. Returns the completed events (with their eventIds).
 */
export async function recordEvents(tx: Transaction, events: readonly NewEvent[]): Promise<InventoryEvent[]> {
  const { recorded, insert } = await eventsToRecord(tx, events);
  await runTogether(tx, [insert]);
  return recorded;
}

/**
 * Completes events and returns the outbox insert that records them, for the caller to run with
 * its other writes (runTogether) in the same transaction.
 *
 * Outbox ids must follow commit order within an aggregate. A reservation, transfer or backorder is
 * either created by the writing transaction or locked by it (FOR UPDATE) before it changes, so its
 * writers already take turns. The stock of a product at a warehouse has no row every writer locks
 * (two receipts into an empty warehouse lock nothing in common), so its events take a
 * transaction-scoped advisory lock here, before the insert; call this after the use case's lot locks.
 */
export async function eventsToRecord(tx: Transaction, events: readonly NewEvent[]): Promise<{ recorded: InventoryEvent[]; insert: Statement | undefined }> {
  if (events.length === 0) return { recorded: [], insert: undefined };
  const now = new Date();
  const completed = events.map((event) => completeEvent(event, now));
  await lockAggregates(
    tx,
    completed.filter(({ event }) => event.aggregateType === 'stock').map(({ event }) => `${event.aggregateType}:${event.aggregateId}`),
  );
  const insert = outboxInsert(
    completed.map(({ event, json }) => ({
      eventId: event.eventId,
      eventType: event.type,
      routingKey: routingKeys[event.type],
      aggregateType: event.aggregateType,
      aggregateId: event.aggregateId,
      payload: json,
    })),
  );
  return { recorded: completed.map(({ event }) => event), insert };
}
