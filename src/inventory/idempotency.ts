/**
 * Idempotency-Key handling for every state-changing call. A key is scoped to its operation and
 * the caller's owner (src/domain/ownership.ts), so one owner can never replay another's answer; the first answer given under it is kept with the hash of the body that asked, and a
 * repeat with the same body gets that answer again (`idempotent-replayed`), with another body 422.
 * A refusal the call ran into (keptRefusals: not found, not enough stock, a state that does not
 * allow it) is an answer like any other and is kept and replayed; a body refused before anything
 * ran (400) and a concurrent change (CONFLICT) are not, so the key stays free for a retry. Keys
 * are kept IDEMPOTENCY_RETENTION_HOURS, then pruned (pruneIdempotencyKeys) and free again.
 *
 * Two strategies, one module:
 *
 * 1. Look up first (runIdempotent): find the kept answer and replay it; otherwise run the call
 *    and keep its answer in the same transaction. For calls one at a time (release, allocate,
 *    ship, adjust, transfers), where a look-up is cheap next to the work.
 * 2. Insert and replay on conflict (runKeptBatch): no look-up; the answers are kept in the
 *    batch's own write, and a key kept already (a repeat, or a concurrent call that committed
 *    first) fails that write and rolls the batch back. The batch's keys are then looked up, the
 *    calls whose keys are kept replay those answers and the rest run again. For batches of calls
 *    (synchronous reserve and direct allocate), where the common batch then pays no look-up. The
 *    allocation intake keeps its key in the job row itself and reads back the row a conflict kept
 *    (src/inventory/jobs/allocation-intake.ts), then checks the body with assertSameRequest.
 */
import type { Pool } from 'pg';
import { z } from 'zod';
import type { Caller } from '../auth/tokens';
import { withTransaction, type Queryable, type Transaction } from '../db/client';
import {
  deleteKeysKeptBefore,
  findStoredResponses,
  idempotencyKeyConstraint,
  insertResponseIfAbsent,
  type IdempotencyRef,
  type KeptResponse,
  type StoredResponse,
} from '../db/idempotency-store';
import { isUniqueViolationOf } from '../db/pg-errors';
import { commitWrites, type Writes } from '../db/writes';
import { ownerOf } from '../domain/ownership';
import { AppError, ReplayedRefusal, type ErrorBody, type ErrorCode } from '../errors';
import type { Settled } from '../micro-batcher';
import { requestHash } from '../request-hash';

export type IdempotentCall<S extends z.ZodType> = {
  /** Names the operation; keys are separate per operation and per owner. */
  operation: string;
  caller: Caller;
  key: string | undefined;
  body: unknown;
  /** The response schema: answers are kept encoded (the JSON sent) and decoded again on a repeat. */
  response: S;
};

/** An answer and the status it is given (and kept) with. */
export type Answer<T> = { status: number; body: T };

/**
 * An answer as the call gets it. `json` is set when the answer is kept under a key: its body as the
 * response schema encoded it to keep, which is also the text sent (sendAnswer), so a kept answer is
 * encoded once and its replays are the same bytes.
 */
export type IdempotentAnswer<T> = Answer<T> & { replayed: boolean; json?: string };

/** A call's key with what it is checked and kept by: its scope and the hash of its body. */
export type KeyedCall<S extends z.ZodType> = IdempotencyRef & { hash: string; response: S };

/** The key of a call, scoped to its operation and the caller's owner; undefined when it came without one. */
export function keyOf<S extends z.ZodType>(call: IdempotentCall<S>): KeyedCall<S> | undefined {
  if (call.key === undefined) return undefined;
  return { scope: `${call.operation}:${ownerOf(call.caller)}`, key: call.key, hash: requestHash(call.body), response: call.response };
}

/** One string per scope and key, for maps. */
export const refId = (ref: IdempotencyRef): string => `${ref.scope}\u0000${ref.key}`;

/** Refuses (422) a key that was first used with another request body. */
export function assertSameRequest(firstHash: string, call: { key: string; hash: string }, details?: Record<string, unknown>): void {
  if (firstHash !== call.hash) {
    throw new AppError('IDEMPOTENCY_MISMATCH', `Idempotency-Key ${call.key} was already used with a different request body`, details);
  }
}

/**
 * The refusals a key keeps: what the call found when it ran (no such thing, not enough stock, a
 * state or version that does not allow it). Not kept: a body refused before anything ran
 * (VALIDATION_FAILED), a concurrent change that asks for a retry (CONFLICT), and the rest.
 */
const keptRefusals: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'NOT_FOUND',
  'UNKNOWN_REFERENCE',
  'ALREADY_EXISTS',
  'INSUFFICIENT_STOCK',
  'VERSION_CONFLICT',
  'INVALID_TRANSITION',
]);

/** Whether a call's failure is a refusal its key keeps (and a replay of one is not kept again). */
export function isKeptRefusal(error: unknown): error is AppError {
  return error instanceof AppError && !(error instanceof ReplayedRefusal) && keptRefusals.has(error.code);
}

/** The JSON text of an answer's body as its response schema encodes it: what is kept under its key and sent. */
function answerJson<S extends z.ZodType>(keyed: KeyedCall<S>, body: z.output<S>): string {
  return JSON.stringify(z.encode(keyed.response, body));
}

/** The answer first given under the key again (a kept refusal is thrown again); 422 when the key came with another body then. */
function replay<S extends z.ZodType>(stored: StoredResponse, keyed: KeyedCall<S>): IdempotentAnswer<z.output<S>> {
  assertSameRequest(stored.requestHash, keyed);
  if (stored.responseStatus >= 400) throw ReplayedRefusal.of(stored.responseBody as ErrorBody);
  const body = z.decode(keyed.response, stored.responseBody as z.input<S>);
  // encoded again, not sent as read: jsonb keeps an object's keys in an order of its own, the answer had the schema's
  return { status: stored.responseStatus, body, replayed: true, json: answerJson(keyed, body) };
}

/** The answers kept under any of these keys, by refId (one query). */
async function findAnswers(db: Queryable, refs: readonly IdempotencyRef[]): Promise<Map<string, StoredResponse>> {
  return new Map((await findStoredResponses(db, refs)).map((row) => [refId(row), row]));
}

/** What is kept under a call's key: the status and the JSON text of the body it was answered with. */
function keptResponse<S extends z.ZodType>(keyed: KeyedCall<S>, responseStatus: number, responseJson: string): KeptResponse {
  return { scope: keyed.scope, key: keyed.key, requestHash: keyed.hash, responseStatus, responseJson };
}

/** A kept refusal as it is kept under its key. */
function keptRefusal<S extends z.ZodType>(keyed: KeyedCall<S>, refusal: AppError): KeptResponse {
  return keptResponse(keyed, refusal.status, JSON.stringify(refusal.toBody()));
}

/** The transaction failed because another one kept one of its keys first (its answers insert found the key taken). */
function isKeyTaken(error: unknown): boolean {
  return isUniqueViolationOf(error, idempotencyKeyConstraint);
}

/** The call of a batch: what the work gets, and the key its answer is kept under (none when it came without one). */
export type BatchCall<C, S extends z.ZodType> = { call: C; keyed: KeyedCall<S> | undefined };

/**
 * Work for a batch of calls, in one transaction: an answer or a refusal per call (same order), and
 * what to write; runKeptBatch commits the writes together with the answers it keeps.
 */
export type BatchWork<C, T> = (tx: Transaction, calls: readonly C[]) => Promise<{ answers: (Answer<T> | AppError)[]; writes: Writes }>;

/**
 * Strategy 2: runs the calls in one transaction, keeping their answers and kept refusals in the
 * same write, and replays kept keys on conflict (see the top of this file). A refusal that is not
 * kept replays the answer its key was kept with before, if any. Two calls with the same key must not share a batch. Resolves one Settled per call, and
 * how many calls the committed transaction ran; rejects when the batch fails as a whole.
 */
export async function runKeptBatch<C, S extends z.ZodType>(
  pool: Pool,
  calls: readonly BatchCall<C, S>[],
  work: BatchWork<C, z.output<S>>,
): Promise<{ settled: Settled<IdempotentAnswer<z.output<S>>>[]; ran: number }> {
  type Given = IdempotentAnswer<z.output<S>> | AppError;
  const settled = new Map<number, Settled<IdempotentAnswer<z.output<S>>>>();
  const replayed = (keyed: KeyedCall<S>, stored: StoredResponse): Settled<IdempotentAnswer<z.output<S>>> => {
    try {
      return { ok: true, value: replay(stored, keyed) };
    } catch (error) {
      return { ok: false, error };
    }
  };
  let running = calls.map((_, index) => index);
  let ran = 0;
  for (;;) {
    const batch = running;
    let answers: Given[];
    try {
      answers = await withTransaction(pool, async (tx) => {
        const done = await work(
          tx,
          batch.map((index) => calls[index]!.call),
        );
        const kept: KeptResponse[] = [];
        const given = done.answers.map((answer, position): Given => {
          const { keyed } = calls[batch[position]!]!;
          if (answer instanceof AppError) {
            if (keyed && isKeptRefusal(answer)) kept.push(keptRefusal(keyed, answer));
            return answer;
          }
          if (!keyed) return { status: answer.status, body: answer.body, replayed: false };
          // encoded once: the JSON kept is the JSON sent
          const json = answerJson(keyed, answer.body);
          kept.push(keptResponse(keyed, answer.status, json));
          return { status: answer.status, body: answer.body, replayed: false, json };
        });
        await commitWrites(tx, done.writes, { keptResponses: kept });
        return given;
      });
    } catch (error) {
      if (!isKeyTaken(error)) throw error;
      const stored = await findAnswers(
        pool,
        batch.flatMap((index) => calls[index]!.keyed ?? []),
      );
      const storedOf = (index: number) => {
        const { keyed } = calls[index]!;
        return keyed && stored.get(refId(keyed));
      };
      // a key taken by a call that has not finished (its transaction rolled back since): nothing to replay yet
      if (!batch.some((index) => storedOf(index)))
        throw new AppError('CONFLICT', 'A concurrent request with the same Idempotency-Key did not finish; try again');
      for (const index of batch) {
        const earlier = storedOf(index);
        if (earlier) settled.set(index, replayed(calls[index]!.keyed!, earlier));
      }
      running = batch.filter((index) => !settled.has(index));
      if (running.length > 0) continue;
      break;
    }
    ran = batch.length;
    const refusedKeyed = batch.filter(
      (index, position) => answers[position] instanceof AppError && !isKeptRefusal(answers[position]) && calls[index]!.keyed !== undefined,
    );
    const earlier = await findAnswers(
      pool,
      refusedKeyed.map((index) => calls[index]!.keyed!),
    );
    batch.forEach((index, position) => {
      const answer = answers[position]!;
      const { keyed } = calls[index]!;
      const stored = keyed && earlier.get(refId(keyed));
      if (!(answer instanceof AppError)) settled.set(index, { ok: true, value: answer });
      else if (keyed && stored) settled.set(index, replayed(keyed, stored));
      else settled.set(index, { ok: false, error: answer });
    });
    break;
  }
  return { settled: calls.map((_, index) => settled.get(index)!), ran };
}

/**
 * A refusal thrown by a call's transaction (rolled back: nothing changed), kept under its key in a
 * statement of its own and thrown; when another call kept the key meanwhile, that answer replays.
 */
async function keepRefusal<S extends z.ZodType>(pool: Pool, keyed: KeyedCall<S>, refusal: AppError): Promise<IdempotentAnswer<z.output<S>>> {
  if (await insertResponseIfAbsent(pool, keptRefusal(keyed, refusal))) throw refusal;
  const earlier = (await findAnswers(pool, [keyed])).get(refId(keyed));
  if (!earlier) throw refusal;
  return replay(earlier, keyed);
}

/**
 * Strategy 1: runs a state-changing call in one transaction, at most once per Idempotency-Key,
 * looking the key up first (see the top of this file). Without a key the call simply runs.
 * `work` may write itself or return writes; its answer is kept in the same transaction, a kept
 * refusal (thrown by `work`) right after it rolled back.
 */
export async function runIdempotent<S extends z.ZodType>(
  pool: Pool,
  call: IdempotentCall<S>,
  work: (tx: Transaction) => Promise<Answer<z.output<S>> & { writes?: Writes }>,
): Promise<IdempotentAnswer<z.output<S>>> {
  const keyed = keyOf(call);
  if (keyed !== undefined) {
    const earlier = (await findAnswers(pool, [keyed])).get(refId(keyed));
    if (earlier) return replay(earlier, keyed);
  }
  try {
    const {
      settled: [outcome],
    } = await runKeptBatch<null, S>(pool, [{ call: null, keyed }], async (tx) => {
      const { writes, ...answer } = await work(tx);
      return { answers: [answer], writes: writes ?? {} };
    });
    if (!outcome!.ok) throw outcome!.error;
    return outcome!.value;
  } catch (error) {
    if (keyed === undefined || !isKeptRefusal(error)) throw error;
    return keepRefusal(pool, keyed, error);
  }
}

/** Deletes the keys kept longer than `retentionHours`, in chunks (one statement each); returns how many went. Their keys are free again. */
export async function pruneIdempotencyKeys(pool: Pool, options: { retentionHours: number; now?: Date; chunkSize?: number }): Promise<number> {
  const before = new Date((options.now ?? new Date()).getTime() - options.retentionHours * 3_600_000);
  const chunkSize = options.chunkSize ?? 5000;
  let total = 0;
  for (;;) {
    const deleted = await deleteKeysKeptBefore(pool, before, chunkSize);
    total += deleted;
    if (deleted < chunkSize) return total;
  }
}

/** A state-changing operation kept under Idempotency-Keys (strategy 1): `run(caller, key, body, work)`. */
export type KeptOperation<S extends z.ZodType> = (
  caller: Caller,
  key: string | undefined,
  body: unknown,
  work: (tx: Transaction) => Promise<Answer<z.output<S>> & { writes?: Writes }>,
) => Promise<IdempotentAnswer<z.output<S>>>;

/** The operation `operation`, whose answers have the shape `response`: every call runs through runIdempotent. */
export function keptOperation<S extends z.ZodType>(pool: Pool, operation: string, response: S): KeptOperation<S> {
  return (caller, key, body, work) => runIdempotent(pool, { operation, caller, key, body, response }, work);
}
