import { queryRows, type Queryable, type Transaction } from './client';
import { sql, type Sql } from './sql';

/** An outbox row to write: the event in its wire form and where it goes. */
export type OutboxInsert = {
  eventId: string;
  eventType: string;
  routingKey: string;
  aggregateType: string;
  aggregateId: string;
  payload: unknown;
  /** the W3C traceparent of the work that caused the event: its publish continues that trace (null when tracing is off) */
  traceparent: string | null;
};

/**
 * An outbox row claimed by a relay; id is the bigint as text. Its payload comes as `body`, the
 * stored JSON's text, which the relay publishes as it is: parsed into an object by the driver, it
 * was only written back into text for the message.
 */
export type PendingEvent = Omit<OutboxInsert, 'payload'> & { id: string; attempts: number; body: string };

/**
 * Takes a transaction-scoped advisory lock per aggregate (in one fixed order), so writers of one
 * aggregate insert and commit one after the other and outbox id order is their commit order.
 */
export async function lockAggregates(tx: Transaction, keys: readonly string[]): Promise<void> {
  const sorted = [...new Set(keys)].sort();
  if (sorted.length === 0) return;
  await tx.query(`select pg_advisory_xact_lock(hashtextextended(k, 0)) from unnest($1::text[]) as k`, [sorted]);
}

/**
 * The statement appending events to the outbox in input order, ids ascending (a part of commitWrites).
 * The rows go as one JSON document: the payloads are JSON already, and a jsonb[] parameter would
 * have the driver escape every one of them into an array literal.
 */
export function outboxInsert(rows: readonly OutboxInsert[]): Sql {
  return sql`insert into outbox_events (event_id, event_type, routing_key, aggregate_type, aggregate_id, payload, traceparent)
       select event_id, event_type, routing_key, aggregate_type, aggregate_id, payload, traceparent
         from rows from (jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
                as ("eventId" uuid, "eventType" text, "routingKey" text, "aggregateType" text, "aggregateId" text, payload jsonb, traceparent text)) with ordinality
              as e(event_id, event_type, routing_key, aggregate_type, aggregate_id, payload, traceparent, n)
        order by n`;
}

/**
 * Claims up to `limit` due, unpublished events in id order, skipping rows another relay holds.
 * A claimed event is returned only when no earlier unpublished event of its aggregate was passed
 * over (held by another relay, or waiting for a retry): that keeps the events of one aggregate in
 * order. The events passed over are those left out of the claim below its last id, read once per
 * claim by id range — never looked up per claimed event, a lookup whose plan statistics taken while
 * no event was pending could turn into a read of every pending event for every claimed one. The
 * rows stay locked until the caller's transaction ends.
 * The caller's transaction plans without bitmap scans from here on: both reads must take
 * outbox_events_pending_idx in id order as plain index scans, whatever the statistics say. The
 * pending index keeps an entry for every event until vacuum removes it (a row marked published
 * leaves its old version behind); a plain index scan marks the entries of published rows dead as it
 * passes them and the next claims skip them, where a bitmap scan, chosen on statistics taken while
 * the table was small, reads them all at every claim. The relay's other statements find rows by id,
 * which the primary key serves either way.
 */
export async function claimPendingEvents(tx: Transaction, limit: number): Promise<PendingEvent[]> {
  await tx.query('set local enable_bitmapscan = off');
  return queryRows<PendingEvent>(
    tx,
    `with claimed as (
       select id, aggregate_type, aggregate_id
         from outbox_events
        where published_at is null and available_at <= now()
        order by id
        limit $1
          for update skip locked
     ),
     passed_over as (
       select aggregate_type, aggregate_id, min(id) as first_id
         from outbox_events
        where published_at is null
          and id < (select max(id) from claimed)
          and id not in (select id from claimed)
        group by aggregate_type, aggregate_id
     )
     select o.id::text as id, o.event_id as "eventId", o.event_type as "eventType", o.routing_key as "routingKey",
            o.aggregate_type as "aggregateType", o.aggregate_id as "aggregateId", o.payload::text as body, o.attempts, o.traceparent
       from claimed c join outbox_events o on o.id = c.id
      where not exists (
              select 1 from passed_over p
               where p.aggregate_type = c.aggregate_type and p.aggregate_id = c.aggregate_id and p.first_id < c.id)
      order by o.id`,
    [limit],
  );
}

/** Marks events as published, in one statement. */
export async function markEventsPublished(tx: Transaction, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.query(
    `update outbox_events set published_at = now(), attempts = attempts + 1, last_error = null
      where id = any($1::bigint[])`,
    [ids],
  );
}

/** Records a failed publish per event and when to try it again, in one statement. */
export async function markEventsFailed(tx: Transaction, failures: readonly { id: string; error: string; retryInMs: number }[]): Promise<void> {
  if (failures.length === 0) return;
  await tx.query(
    `update outbox_events o
        set attempts = o.attempts + 1, last_error = f.error,
            available_at = now() + make_interval(secs => f.retry_ms / 1000.0)
       from unnest($1::bigint[], $2::text[], $3::int[]) as f(id, error, retry_ms)
      where o.id = f.id`,
    [failures.map((failure) => failure.id), failures.map((failure) => failure.error), failures.map((failure) => failure.retryInMs)],
  );
}

/** Deletes up to `limit` events published before `before`; returns how many went. */
export async function deletePublishedEvents(db: Queryable, before: Date, limit: number): Promise<number> {
  const result = await db.query(
    `delete from outbox_events
      where id in (select id from outbox_events where published_at < $1 order by published_at limit $2)`,
    [before, limit],
  );
  return result.rowCount ?? 0;
}
