/** Idempotency-Key handling shared by every state-changing call: scope, hash, replay, find, keep. */
import type { Pool } from 'pg';
import { z } from 'zod';
import type { Caller } from '../auth/tokens';
import { withTransaction, type Queryable, type Transaction } from '../db/client';
import { findStoredResponses, idempotencyKeyConstraint, type IdempotencyRef, type StoredResponse } from '../db/idempotency-store';
import { commitWrites, type Writes } from '../db/writes';
import { isUniqueViolationOf } from '../db/pg-errors';
import { AppError } from '../errors';
import { requestHash } from '../request-hash';

export type IdempotentCall<S extends z.ZodType> = {
  /** Names the operation; keys are separate per operation and per caller. */
  operation: string;
  caller: Caller;
  key: string | undefined;
  body: unknown;
  /** The response schema: answers are stored encoded and decoded again on a repeat. */
  response: S;
};

export type IdempotentAnswer<T> = { status: number; body: T; replayed: boolean };

/** A call's key with what it is checked and kept by: its scope and the hash of its body. */
export type KeyedCall<S extends z.ZodType> = IdempotencyRef & { hash: string; response: S };

/** The key of a call, scoped to its operation and caller; undefined when it came without one. */
export function keyOf<S extends z.ZodType>(call: IdempotentCall<S>): KeyedCall<S> | undefined {
  if (call.key === undefined) return undefined;
  return { scope: `${call.operation}:${call.caller.sub}`, key: call.key, hash: requestHash(call.body), response: call.response };
}

/** One string per scope and key, for maps. */
export const refId = (ref: IdempotencyRef): string => `${ref.scope}\u0000${ref.key}`;

/** The answer first given under the key again; 422 when the key came with another body then. */
export function replay<S extends z.ZodType>(stored: StoredResponse, keyed: KeyedCall<S>): IdempotentAnswer<z.output<S>> {
  if (stored.requestHash !== keyed.hash) {
    throw new AppError('IDEMPOTENCY_MISMATCH', `Idempotency-Key ${keyed.key} was already used with a different request body`);
  }
  return { status: stored.responseStatus, body: z.decode(keyed.response, stored.responseBody as z.input<S>), replayed: true };
}

/** The answers kept under any of these keys, by refId (one query). */
export async function findAnswers(db: Queryable, refs: readonly IdempotencyRef[]): Promise<Map<string, StoredResponse>> {
  return new Map((await findStoredResponses(db, refs)).map((row) => [refId(row), row]));
}

/** The writes keeping the answers of many calls, to commit with the calls' own writes; see isKeyTaken. */
export function answersInsert<S extends z.ZodType>(answers: readonly { keyed: KeyedCall<S>; status: number; body: z.output<S> }[]): Writes {
  return {
    keptResponses: answers.map(({ keyed, status, body }) => ({
      scope: keyed.scope,
      key: keyed.key,
      requestHash: keyed.hash,
      responseStatus: status,
      responseBody: z.encode(keyed.response, body),
    })),
  };
}

/** The transaction failed because another one kept one of its keys first (its answers insert found the key taken). */
export function isKeyTaken(error: unknown): boolean {
  return isUniqueViolationOf(error, idempotencyKeyConstraint);
}

/** What a call whose key a concurrent call took gets: the winner's answer, or 409 if it did not finish. */
export async function replayWinner<S extends z.ZodType>(db: Queryable, keyed: KeyedCall<S>): Promise<IdempotentAnswer<z.output<S>>> {
  const winner = (await findAnswers(db, [keyed])).get(refId(keyed));
  if (!winner) throw new AppError('CONFLICT', 'A concurrent request with the same Idempotency-Key did not finish; try again');
  return replay(winner, keyed);
}

/**
 * Runs a state-changing call in one transaction, at most once per Idempotency-Key: a repeat with the
 * same body gets the first answer again, a repeat with another body gets 422. Failures are not
 * kept, so a refused call may be retried under the same key. Without a key the call simply runs.
 */
export async function runIdempotent<S extends z.ZodType>(
  pool: Pool,
  call: IdempotentCall<S>,
  work: (tx: Transaction) => Promise<{ status: number; body: z.output<S> }>,
): Promise<IdempotentAnswer<z.output<S>>> {
  const keyed = keyOf(call);
  if (keyed === undefined) return { ...(await withTransaction(pool, work)), replayed: false };
  const earlier = (await findAnswers(pool, [keyed])).get(refId(keyed));
  if (earlier) return replay(earlier, keyed);
  try {
    return await withTransaction(pool, async (tx) => {
      const answer = await work(tx);
      await commitWrites(tx, answersInsert([{ keyed, ...answer }]));
      return { ...answer, replayed: false };
    });
  } catch (error) {
    if (!isKeyTaken(error)) throw error;
    return replayWinner(pool, keyed);
  }
}
