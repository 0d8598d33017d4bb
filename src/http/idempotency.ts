import type { Pool } from 'pg';
import { z } from 'zod';
import type { Caller } from '../auth/tokens';
import { withTransaction, type Transaction } from '../db/client';
import { findStoredResponse, storeResponse, type StoredResponse } from '../db/idempotency-store';
import { AppError } from '../errors';
import { requestHash } from '../request-hash';

/** The Idempotency-Key header: printable, at most 200 characters. */
export const idempotencyKeySchema = z.string().regex(/^[\x21-\x7e]{1,200}$/, 'expected 1-200 printable characters');

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

class KeyTakenMeanwhile extends Error {}

function replay<S extends z.ZodType>(stored: StoredResponse, hash: string, call: IdempotentCall<S>): IdempotentAnswer<z.output<S>> {
  if (stored.requestHash !== hash) {
    throw new AppError('IDEMPOTENCY_MISMATCH', `Idempotency-Key ${call.key} was already used with a different request body`);
  }
  return { status: stored.responseStatus, body: z.decode(call.response, stored.responseBody as z.input<S>), replayed: true };
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
  if (call.key === undefined) return { ...(await withTransaction(pool, work)), replayed: false };
  const scope = `${call.operation}:${call.caller.sub}`;
  const hash = requestHash(call.body);
  const earlier = await findStoredResponse(pool, scope, call.key);
  if (earlier) return replay(earlier, hash, call);
  try {
    return await withTransaction(pool, async (tx) => {
      const answer = await work(tx);
      const stored = { requestHash: hash, responseStatus: answer.status, responseBody: z.encode(call.response, answer.body) };
      if (!(await storeResponse(tx, scope, call.key!, stored))) throw new KeyTakenMeanwhile();
      return { ...answer, replayed: false };
    });
  } catch (error) {
    if (!(error instanceof KeyTakenMeanwhile)) throw error;
    const winner = await findStoredResponse(pool, scope, call.key);
    if (!winner) throw new AppError('CONFLICT', 'A concurrent request with the same Idempotency-Key did not finish; try again');
    return replay(winner, hash, call);
  }
}
