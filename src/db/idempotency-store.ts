import { queryRows, type Queryable } from './client';
import { sql, type Sql } from './sql';

/** Where an answer is kept: the operation and caller (scope) and the caller's Idempotency-Key. */
export type IdempotencyRef = { scope: string; key: string };

export type StoredResponse = { requestHash: string; responseStatus: number; responseBody: unknown };

/** An answer to keep under its key: its body as the JSON text it was answered with. */
export type KeptResponse = IdempotencyRef & { requestHash: string; responseStatus: number; responseJson: string };

/** The answers first given under any of these keys (one query for all of them). */
export async function findStoredResponses(db: Queryable, refs: readonly IdempotencyRef[]): Promise<(IdempotencyRef & StoredResponse)[]> {
  if (refs.length === 0) return [];
  return queryRows<IdempotencyRef & StoredResponse>(
    db,
    `select k.scope, k.key, k.request_hash as "requestHash", k.response_status as "responseStatus", k.response_body as "responseBody"
       from unnest($1::text[], $2::text[]) as wanted(scope, key)
       join idempotency_keys k on k.scope = wanted.scope and k.key = wanted.key`,
    [refs.map((ref) => ref.scope), refs.map((ref) => ref.key)],
  );
}

/**
 * Keeps one answer under its key unless the key is kept already (by then, another call's answer);
 * true when this one was kept.
 */
export async function insertResponseIfAbsent(db: Queryable, answer: KeptResponse): Promise<boolean> {
  const result = await db.query(
    `insert into idempotency_keys (scope, key, request_hash, response_status, response_body)
     values ($1, $2, $3, $4, $5::jsonb) on conflict (scope, key) do nothing`,
    [answer.scope, answer.key, answer.requestHash, answer.responseStatus, answer.responseJson],
  );
  return (result.rowCount ?? 0) > 0;
}

/** Deletes up to `limit` keys kept before `before`, oldest first (one statement); returns how many went. */
export async function deleteKeysKeptBefore(db: Queryable, before: Date, limit: number): Promise<number> {
  const result = await db.query(
    `delete from idempotency_keys
      where (scope, key) in (select scope, key from idempotency_keys where created_at < $1 order by created_at limit $2)`,
    [before, limit],
  );
  return result.rowCount ?? 0;
}

/** The primary key a kept key violates when another transaction kept it first. */
export const idempotencyKeyConstraint = 'idempotency_keys_scope_key_pk';

/**
 * The statement keeping each answer under its key (a part of commitWrites). A key kept already, or
 * by a transaction that commits meanwhile (the insert waits for it), fails the statement with a
 * unique violation of idempotencyKeyConstraint. Rows go in key order, so two transactions that
 * share keys wait for each other rather than deadlock.
 */
export function responsesInsert(answers: readonly KeptResponse[]): Sql {
  const sorted = [...answers].sort((a, b) => (a.scope === b.scope ? (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) : a.scope < b.scope ? -1 : 1));
  // the bodies go as one JSON array of their texts, not a jsonb[] parameter the driver would escape body by body
  return sql`insert into idempotency_keys (scope, key, request_hash, response_status, response_body)
           select * from rows from (unnest(${sorted.map((answer) => answer.scope)}::text[]), unnest(${sorted.map((answer) => answer.key)}::text[]),
                                    unnest(${sorted.map((answer) => answer.requestHash)}::text[]), unnest(${sorted.map((answer) => answer.responseStatus)}::int[]),
                                    jsonb_array_elements(${`[${sorted.map((answer) => answer.responseJson).join(',')}]`}::jsonb))`;
}
