import { z } from 'zod';
import type { OutboxInsert } from '../db/outbox-store';
import { newId } from '../ids';
import { traceparentOf } from '../tracing/trace-context';
import { aggregateOf, inventoryEventSchema, routingKeys, type InventoryEvent, type InventoryEventJson, type NewEvent } from './schemas';

/** Fills in eventId, timestamp and aggregate, and checks the event against its schema (a bad event is a bug: it throws). */
export function completeEvent(event: NewEvent, now: Date = new Date()): { event: InventoryEvent; json: InventoryEventJson } {
  // Object.assign, not an object literal of spreads: V8 built that copy several times slower, and it ran once per event
  const full: InventoryEvent = Object.assign({}, event, aggregateOf(event), { eventId: event.eventId ?? newId(), timestamp: event.timestamp ?? now });
  return { event: full, json: z.encode(inventoryEventSchema, full) };
}

/**
 * The outbox rows recording events, for the caller's commitWrites: they exist exactly when the
 * change they describe commits. Events get their eventId and timestamp here when they have none.
 * Outbox ids follow commit order within an aggregate: a reservation, transfer or backorder is
 * created or locked by the writing transaction, so its writers take turns already; the stock of a
 * product at a warehouse has no row every writer locks, so commitWrites takes an advisory lock per
 * stock aggregate before the insert. Each row keeps `traceparent` (the active trace context unless
 * given; null when tracing is off), so the relay's publish continues the trace of what caused it.
 */
export function outboxRows(events: readonly NewEvent[], now: Date = new Date(), traceparent: string | null = traceparentOf()): OutboxInsert[] {
  return events.map((event) => {
    const { event: completed, json } = completeEvent(event, now);
    return {
      eventId: completed.eventId,
      eventType: completed.type,
      routingKey: routingKeys[completed.type],
      aggregateType: completed.aggregateType,
      aggregateId: completed.aggregateId,
      payload: json,
      traceparent,
    };
  });
}
