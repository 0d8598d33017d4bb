import type { Pool } from 'pg';
import type { Config } from '../../config';
import { isConnectionError } from '../../db/pg-errors';
import { AppError } from '../../errors';
import { batchSize } from '../../metrics';
import { createMicroBatcher } from '../../micro-batcher';
import type { serveAnswerSchema, ServeAnswer } from '../../schemas/reservations';
import { keyOf, refId, runKeptBatch, type BatchCall, type IdempotentAnswer, type IdempotentCall } from '../idempotency';
import { serveOrders, type OrderOutcome, type OrderToServe } from './reserve';

/** The HTTP status an order's outcome is answered (and kept) with: 201 stock held, 202 everything backordered. */
export const serveStatus: Record<OrderOutcome['kind'], 201 | 202> = { held: 201, backordered: 202 };

/** One synchronous reserve or direct allocate: the order, and the call it came in (for its Idempotency-Key). */
export type ServeCall = { order: OrderToServe; call: IdempotentCall<typeof serveAnswerSchema> };

/** Serves synchronous reserve and direct-allocate calls many at a time; `close` waits for those under way. */
export type ServeBatcher = { serve(call: ServeCall): Promise<IdempotentAnswer<ServeAnswer>>; close(): Promise<void> };

export type ServeBatcherOptions = { maxInFlight: number; maxBatch: number };

type Entry = BatchCall<OrderToServe, typeof serveAnswerSchema>;

/**
 * Combines the synchronous reserve and direct-allocate calls of this process (a micro-batcher):
 * calls that arrive while a batch is being written share the next one — one transaction, one lock
 * of their lots, one write of everything including their kept Idempotency-Keys, one commit — and
 * an idle process serves a lone call at once. Calls are served in arrival order, each answered as
 * it would have been alone: refusals (400 unknown reference, 409 insufficient stock) change nothing
 * and are not kept under their key. Of two calls with the same key in one batch only the first
 * runs; the other goes to the next batch and replays it. Keys follow the insert-and-replay-on-
 * conflict strategy (runKeptBatch). A batch that fails for any reason but a lost database is
 * served again call by call, so one bad call fails alone.
 */
export function createServeBatcher(
  pool: Pool,
  config: Pick<Config, 'RESERVATION_TIMEOUT_MINUTES' | 'RESERVATION_MAX_MINUTES'>,
  options: ServeBatcherOptions = { maxInFlight: 1, maxBatch: 200 },
): ServeBatcher {
  const batcher = createMicroBatcher<Entry, IdempotentAnswer<ServeAnswer>>({
    ...options,
    keyOf: (entry) => entry.keyed && refId(entry.keyed),
    isolate: (error) => !isConnectionError(error),
    run: async (entries) => {
      const { settled, ran } = await runKeptBatch(pool, entries, async (tx, orders) => {
        const { outcomes, writes } = await serveOrders(tx, orders, { now: new Date(), config });
        const answers = outcomes.map((outcome) => (outcome instanceof AppError ? outcome : { status: serveStatus[outcome.kind], body: outcome.answer }));
        return { answers, writes };
      });
      if (ran > 0) batchSize.observe({ path: 'sync' }, ran);
      return settled;
    },
  });
  return {
    serve: ({ order, call }) => batcher.submit({ call: order, keyed: keyOf(call) }),
    close: () => batcher.close(),
  };
}
