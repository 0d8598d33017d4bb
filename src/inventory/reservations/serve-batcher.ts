import type { Pool } from 'pg';
import type { Config } from '../../config';
import { withTransaction } from '../../db/client';
import { commitWrites } from '../../db/writes';
import { isConnectionError } from '../../db/pg-errors';
import { AppError } from '../../errors';
import { batchSize } from '../../metrics';
import { serveAnswerSchema, type ServeAnswer } from '../../schemas/reservations';
import { answersInsert, findAnswers, isKeyTaken, keyOf, refId, replay, type IdempotentAnswer, type IdempotentCall, type KeyedCall } from '../idempotency';
import { serveOrders, type OrderOutcome, type OrderToServe } from './reserve';

/** The HTTP status an order's outcome is answered (and kept) with. */
const statusOf: Record<OrderOutcome['kind'], number> = { held: 201, backordered: 202 };

/** One synchronous reserve or direct allocate: the order, and the call it came in (for its Idempotency-Key). */
export type ServeCall = { order: OrderToServe; call: IdempotentCall<typeof serveAnswerSchema> };

/** Serves synchronous reserve and direct-allocate calls many at a time; `close` waits for those under way. */
export type ServeBatcher = { serve(call: ServeCall): Promise<IdempotentAnswer<ServeAnswer>>; close(): Promise<void> };

export type ServeBatcherOptions = { maxInFlight: number; maxBatch: number };

type Waiting = {
  order: OrderToServe;
  keyed: KeyedCall<typeof serveAnswerSchema> | undefined;
  done: boolean;
  resolve: (answer: IdempotentAnswer<ServeAnswer>) => void;
  reject: (error: unknown) => void;
};

/**
 * Combines the synchronous reserve and direct-allocate calls of this process: calls that arrive
 * while a batch is being written share the next one — one transaction, one lock of their lots, one
 * INSERT of their Idempotency-Keys (part of the engine's last statement), one commit — and an idle
 * process serves a lone call at once. Calls are served in arrival order, each answered as it would
 * have been alone: refusals (400 unknown reference, 409 insufficient stock) change nothing and are
 * not kept under their key. Of two calls with the same key in one batch only the first runs; the
 * other goes to the next batch and replays it. Keys are not looked up before the batch, so the
 * common batch pays no lookup: a repeat (rare) that is served again finds its key kept already (or
 * meanwhile, by another process), that INSERT fails and the batch rolls back; the batch's keys are
 * then looked up, the calls whose keys are kept replay those answers, and the rest run again. A
 * repeat refused this time (its stock is gone) is looked up after the commit and replays too. A
 * batch that fails for any reason but a lost database is served again call by call, so one bad
 * call fails alone.
 */
export function createServeBatcher(
  pool: Pool,
  config: Pick<Config, 'RESERVATION_TIMEOUT_MINUTES' | 'RESERVATION_MAX_MINUTES'>,
  options: ServeBatcherOptions = { maxInFlight: 1, maxBatch: 200 },
): ServeBatcher {
  const waiting: Waiting[] = [];
  let inFlight = 0;
  const idle: (() => void)[] = [];

  /** Answers a call apart from its batch (a replay); from now on the batch's failure is not its own. */
  const settle = (entry: Waiting, answer: () => Promise<IdempotentAnswer<ServeAnswer>> | IdempotentAnswer<ServeAnswer>): void => {
    entry.done = true;
    Promise.resolve().then(answer).then(entry.resolve, entry.reject);
  };

  /** Serves `entries` in one transaction; again without the calls whose keys were kept already. */
  const serveTogether = async (entries: Waiting[]): Promise<void> => {
    let running = entries;
    while (running.length > 0) {
      const batch = running;
      let answers: (OrderOutcome | AppError)[];
      try {
        answers = await withTransaction(pool, async (tx) => {
          const { outcomes, writes } = await serveOrders(
            tx,
            batch.map((entry) => entry.order),
            { now: new Date(), config },
          );
          const kept = answersInsert(
            batch.flatMap((entry, index) => {
              const outcome = outcomes[index]!;
              return entry.keyed && !(outcome instanceof AppError) ? [{ keyed: entry.keyed, status: statusOf[outcome.kind], body: outcome.answer }] : [];
            }),
          );
          await commitWrites(tx, writes, kept);
          return outcomes;
        });
      } catch (error) {
        if (!isKeyTaken(error)) throw error;
        const stored = await findAnswers(
          pool,
          batch.flatMap((entry) => (entry.keyed ? [entry.keyed] : [])),
        );
        const lost = (entry: Waiting) => entry.keyed !== undefined && stored.has(refId(entry.keyed));
        if (!batch.some(lost)) throw error;
        for (const entry of batch.filter(lost)) settle(entry, () => replay(stored.get(refId(entry.keyed!))!, entry.keyed!));
        running = batch.filter((entry) => !lost(entry));
        continue;
      }
      batchSize.observe({ path: 'sync' }, batch.length);
      const refused: { entry: Waiting; refusal: AppError }[] = [];
      batch.forEach((entry, index) => {
        const answer = answers[index]!;
        if (!(answer instanceof AppError)) entry.resolve({ status: statusOf[answer.kind], body: answer.answer, replayed: false });
        else if (entry.keyed) refused.push({ entry, refusal: answer });
        else entry.reject(answer);
      });
      // a refused call may be the repeat of one answered before (the stock it got is gone now): it replays that answer
      if (refused.length > 0) {
        const stored = await findAnswers(
          pool,
          refused.map(({ entry }) => entry.keyed!),
        );
        for (const { entry, refusal } of refused) {
          const earlier = stored.get(refId(entry.keyed!));
          if (earlier) settle(entry, () => replay(earlier, entry.keyed!));
          else entry.reject(refusal);
        }
      }
      return;
    }
  };

  const pump = (): void => {
    while (waiting.length > 0 && inFlight < options.maxInFlight) {
      const taken = waiting.splice(0, options.maxBatch);
      // a second call with a key already in this batch waits for the next one, where it replays the first
      const seen = new Set<string>();
      const batch: Waiting[] = [];
      const later: Waiting[] = [];
      for (const entry of taken) {
        const id = entry.keyed && refId(entry.keyed);
        if (id === undefined || !seen.has(id)) batch.push(entry);
        else later.push(entry);
        if (id !== undefined) seen.add(id);
      }
      inFlight++;
      serveTogether(batch)
        .catch(async (error: unknown) => {
          const open = batch.filter((entry) => !entry.done);
          if (open.length <= 1 || isConnectionError(error)) {
            for (const entry of open) entry.reject(error);
            return;
          }
          for (const entry of open) await serveTogether([entry]).catch((alone: unknown) => entry.reject(alone));
        })
        .finally(() => {
          waiting.unshift(...later);
          inFlight--;
          pump();
          if (inFlight === 0 && waiting.length === 0) for (const wake of idle.splice(0)) wake();
        });
    }
  };

  return {
    serve({ order, call }) {
      return new Promise((resolve, reject) => {
        const entry: Waiting = {
          order,
          keyed: keyOf(call),
          done: false,
          resolve: (answer) => {
            entry.done = true;
            resolve(answer);
          },
          reject: (error) => {
            entry.done = true;
            reject(error);
          },
        };
        waiting.push(entry);
        pump();
      });
    },
    close() {
      if (inFlight === 0 && waiting.length === 0) return Promise.resolve();
      return new Promise((resolve) => idle.push(resolve));
    },
  };
}
