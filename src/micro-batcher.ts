/**
 * The micro-batcher: calls that arrive while a batch is under way share the next one, so under load
 * a cost paid per batch (a transaction, a commit, a lock of a hot lot) is paid once for many calls,
 * and an idle batcher runs a lone call at once. Used by the allocation intake, synchronous serving
 * and, for its isolate-on-failure step, the allocation worker.
 */

/** What became of one item of a batch: its value, or the error it alone failed with. */
export type Settled<O> = { ok: true; value: O } | { ok: false; error: unknown };

/** Runs a batch; resolves with one Settled per item, in order, or rejects when the batch as a whole failed. */
export type BatchRun<I, O> = (items: readonly I[]) => Promise<readonly Settled<O>[]>;

/**
 * Runs the items as one batch; when the batch as a whole fails, runs them again one by one so a bad
 * item fails alone — unless `isolate(error)` says the failure is everyone's (a lost database), or
 * there was only one item: then every item fails with the error.
 */
export async function runIsolated<I, O>(items: readonly I[], run: BatchRun<I, O>, isolate: (error: unknown) => boolean): Promise<Settled<O>[]> {
  try {
    return [...(await run(items))];
  } catch (error) {
    if (items.length <= 1 || !isolate(error)) return items.map(() => ({ ok: false, error }));
    const settled: Settled<O>[] = [];
    for (const item of items) {
      try {
        settled.push(...(await run([item])));
      } catch (alone) {
        settled.push({ ok: false, error: alone });
      }
    }
    return settled;
  }
}

export type MicroBatcherOptions<I, O> = {
  /** most items in one batch */
  maxBatch: number;
  /** most batches running at once; items arriving meanwhile wait for the next */
  maxInFlight: number;
  run: BatchRun<I, O>;
  /** whether a failed batch is worth running again item by item (see runIsolated) */
  isolate: (error: unknown) => boolean;
  /** items with the same key never share a batch: a later one waits for the next batch (e.g. a repeated Idempotency-Key) */
  keyOf?: (item: I) => string | undefined;
};

export type MicroBatcher<I, O> = {
  /** Resolves with the item's value once its batch ran, or rejects with its error. */
  submit(item: I): Promise<O>;
  /** Resolves once nothing is waiting or running. */
  close(): Promise<void>;
};

type Waiting<I, O> = { item: I; resolve(value: O): void; reject(error: unknown): void };

/** A micro-batcher over `run`: batches of up to maxBatch items in arrival order, at most maxInFlight at once. */
export function createMicroBatcher<I, O>(options: MicroBatcherOptions<I, O>): MicroBatcher<I, O> {
  const waiting: Waiting<I, O>[] = [];
  const idle: (() => void)[] = [];
  let inFlight = 0;

  /** The next batch: up to maxBatch items, less any whose key is already in it (`later`: they wait for this batch to end). */
  const take = (): { batch: Waiting<I, O>[]; later: Waiting<I, O>[] } => {
    const taken = waiting.splice(0, options.maxBatch);
    if (options.keyOf === undefined) return { batch: taken, later: [] };
    const seen = new Set<string>();
    const batch: Waiting<I, O>[] = [];
    const later: Waiting<I, O>[] = [];
    for (const entry of taken) {
      const key = options.keyOf(entry.item);
      if (key !== undefined && seen.has(key)) later.push(entry);
      else batch.push(entry);
      if (key !== undefined) seen.add(key);
    }
    return { batch, later };
  };

  const pump = (): void => {
    while (waiting.length > 0 && inFlight < options.maxInFlight) {
      const { batch, later } = take();
      inFlight++;
      void runIsolated(
        batch.map((entry) => entry.item),
        options.run,
        options.isolate,
      )
        .then((settled) => {
          batch.forEach((entry, index) => {
            const outcome = settled[index];
            if (outcome === undefined) entry.reject(new Error('the batch returned no outcome for this item'));
            else if (outcome.ok) entry.resolve(outcome.value);
            else entry.reject(outcome.error);
          });
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
    submit(item) {
      return new Promise<O>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        pump();
      });
    },
    close() {
      if (inFlight === 0 && waiting.length === 0) return Promise.resolve();
      return new Promise((resolve) => idle.push(resolve));
    },
  };
}
