import { createMicroBatcher, runIsolated, type Settled } from '../../src/micro-batcher';

const ok = <T>(value: T): Settled<T> => ({ ok: true, value });

/** A gate a batch waits on until the test opens it. */
function gate(): { wait: Promise<void>; open(): void } {
  let open = () => {};
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

describe('runIsolated', () => {
  it('runs the batch once when it succeeds', async () => {
    const runs: number[][] = [];
    const settled = await runIsolated(
      [1, 2, 3],
      (items) => {
        runs.push([...items]);
        return Promise.resolve(items.map((item) => ok(item * 10)));
      },
      () => true,
    );
    expect(settled).toEqual([ok(10), ok(20), ok(30)]);
    expect(runs).toEqual([[1, 2, 3]]);
  });

  it('runs a failed batch again item by item, so only the bad item fails', async () => {
    const bad = new Error('bad item');
    const settled = await runIsolated(
      [1, 2, 3],
      (items) => (items.includes(2) ? Promise.reject(bad) : Promise.resolve(items.map((item) => ok(item)))),
      () => true,
    );
    expect(settled).toEqual([ok(1), { ok: false, error: bad }, ok(3)]);
  });

  it('fails every item with the error when the failure is everyone’s, or there was one item', async () => {
    const lost = new Error('connection lost');
    const failing = (): Promise<Settled<number>[]> => Promise.reject(lost);
    expect(await runIsolated([1, 2], failing, () => false)).toEqual([
      { ok: false, error: lost },
      { ok: false, error: lost },
    ]);
    let runs = 0;
    expect(
      await runIsolated(
        [1],
        async () => (runs++, failing()),
        () => true,
      ),
    ).toEqual([{ ok: false, error: lost }]);
    expect(runs).toBe(1);
  });
});

describe('createMicroBatcher', () => {
  it('runs a lone call at once, and the calls that arrive meanwhile together in the next batch', async () => {
    const batches: string[][] = [];
    const first = gate();
    const batcher = createMicroBatcher<string, string>({
      maxBatch: 10,
      maxInFlight: 1,
      isolate: () => true,
      run: async (items) => {
        batches.push([...items]);
        if (items[0] === 'a') await first.wait;
        return items.map((item) => ok(item.toUpperCase()));
      },
    });
    const a = batcher.submit('a');
    const rest = ['b', 'c', 'd'].map((item) => batcher.submit(item));
    first.open();
    expect(await Promise.all([a, ...rest])).toEqual(['A', 'B', 'C', 'D']);
    expect(batches).toEqual([['a'], ['b', 'c', 'd']]);
    await batcher.close();
  });

  it('keeps batches to maxBatch and runs at most maxInFlight at once', async () => {
    let running = 0;
    let most = 0;
    const sizes: number[] = [];
    const batcher = createMicroBatcher<number, number>({
      maxBatch: 3,
      maxInFlight: 2,
      isolate: () => true,
      run: async (items) => {
        running++;
        most = Math.max(most, running);
        sizes.push(items.length);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
        return items.map(ok);
      },
    });
    const all = await Promise.all(Array.from({ length: 10 }, (_, index) => batcher.submit(index)));
    expect(all).toEqual(Array.from({ length: 10 }, (_, index) => index));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3);
    expect(most).toBe(2);
  });

  it('rejects only the item that failed, and resolves the others of its batch', async () => {
    const batcher = createMicroBatcher<number, number>({
      maxBatch: 10,
      maxInFlight: 1,
      isolate: () => true,
      run: (items) => (items.includes(13) ? Promise.reject(new Error('unlucky')) : Promise.resolve(items.map(ok))),
    });
    const results = await Promise.allSettled([12, 13, 14].map((item) => batcher.submit(item)));
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('never puts two items with one key in one batch: the later one waits for the next', async () => {
    const batches: string[][] = [];
    const first = gate();
    const batcher = createMicroBatcher<string, string>({
      maxBatch: 10,
      maxInFlight: 1,
      isolate: () => true,
      keyOf: (item) => item.split(':')[0],
      run: async (items) => {
        batches.push([...items]);
        if (items.includes('x:1')) await first.wait;
        return items.map(ok);
      },
    });
    const all = ['x:1', 'y:1', 'x:2', 'x:3', 'z:1'].map((item) => batcher.submit(item));
    first.open();
    expect(await Promise.all(all)).toEqual(['x:1', 'y:1', 'x:2', 'x:3', 'z:1']);
    expect(batches).toEqual([['x:1'], ['y:1', 'x:2', 'z:1'], ['x:3']]);
  });

  it('close waits for the batches under way', async () => {
    const slow = gate();
    let finished = false;
    const batcher = createMicroBatcher<number, number>({
      maxBatch: 1,
      maxInFlight: 1,
      isolate: () => true,
      run: async (items) => {
        await slow.wait;
        finished = true;
        return items.map(ok);
      },
    });
    void batcher.submit(1);
    const closed = batcher.close();
    slow.open();
    await closed;
    expect(finished).toBe(true);
  });
});
