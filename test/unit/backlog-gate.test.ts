import type { Pool } from 'pg';
import pino from 'pino';
import type { AppError } from '../../src/errors';
import { createBacklogGate } from '../../src/inventory/jobs/backlog';

/** A pool whose samples of the backlog answer when the test says, with the counts and snapshot it gives. */
function countingPool() {
  const pending: ((row: { unfinished: number; served: number; snapshot: string }) => void)[] = [];
  const pool = { query: () => new Promise((resolve) => pending.push((row) => resolve({ rows: [row] }))) } as unknown as Pool;
  const answer = async (unfinished: number, snapshot: string, served = 0) => {
    pending.shift()!({ unfinished, served, snapshot });
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { pool, answer, waiting: () => pending.length };
}

/** The refusal admit rejects with, or undefined when it admits. */
const refusalOf = (admission: Promise<void>): Promise<AppError | undefined> =>
  admission.then(
    () => undefined,
    (error: unknown) => error as AppError,
  );
const refused = async (admission: Promise<void>) => (await refusalOf(admission)) !== undefined;

describe('the backlog gate', () => {
  const config = { ALLOCATION_MAX_BACKLOG: 3, ALLOCATION_BACKLOG_SAMPLE_MS: 0 };
  const logger = pino({ level: 'silent' });

  it('counts a job committed while a count ran once, when the count saw it', async () => {
    const { pool, answer } = countingPool();
    const gate = createBacklogGate(pool, config, logger);
    await gate.admit(1);
    gate.accepted(1, '10');
    // the count's snapshot was taken after transaction 10 committed: the job is in its count
    await answer(1, '11:11:');
    await gate.admit(1);
    gate.accepted(1, '11');
    await answer(2, '12:12:');
    await gate.admit(1);
    gate.accepted(1, '12');
    expect(await refused(gate.admit(1))).toBe(true);
    await answer(3, '13:13:');
    expect(await refused(gate.admit(1))).toBe(true);
  });

  it('counts a job committed while a count ran once, when the count did not see it', async () => {
    const { pool, answer } = countingPool();
    const gate = createBacklogGate(pool, config, logger);
    await gate.admit(1);
    // transaction 10 was still running when the count's snapshot was taken
    await answer(0, '10:11:10');
    gate.accepted(1, '10');
    await gate.admit(1);
    gate.accepted(1, '11');
    await answer(1, '11:12:11');
    await gate.admit(1);
    gate.accepted(1, '12');
    expect(await refused(gate.admit(1))).toBe(true);
  });

  it('takes jobs again once a count finds the backlog served', async () => {
    const { pool, answer } = countingPool();
    const gate = createBacklogGate(pool, config, logger);
    await gate.admit(3);
    gate.accepted(3, '20');
    await answer(3, '21:21:');
    expect(await refused(gate.admit(1))).toBe(true);
    await answer(0, '30:30:');
    expect(await refused(gate.admit(1))).toBe(false);
  });

  it('asks a refused caller to wait as long as the workers take to make room, at their recent rate', async () => {
    const { pool, answer } = countingPool();
    const gate = createBacklogGate(pool, { ALLOCATION_MAX_BACKLOG: 100, ALLOCATION_BACKLOG_SAMPLE_MS: 0 }, logger);
    await gate.admit(1);
    // 100 unfinished; 400 served in the last two seconds: 200 a second
    await answer(100, '40:40:', 400);
    expect((await refusalOf(gate.admit(50)))?.details).toEqual({ retryAfterSeconds: 1, retryAfterMs: 250, backlog: 100, maxBacklog: 100 });
    // nothing served lately: the longest wait
    await answer(100, '41:41:', 0);
    expect((await refusalOf(gate.admit(1)))?.details).toMatchObject({ retryAfterSeconds: 1, retryAfterMs: 1000 });
  });

  /** A gate whose one count found its backlog full, counted once a minute in the background. */
  async function fullGate(maxBacklog: number) {
    const counts = countingPool();
    const gate = createBacklogGate(counts.pool, { ALLOCATION_MAX_BACKLOG: maxBacklog, ALLOCATION_BACKLOG_SAMPLE_MS: 60_000 }, logger);
    await gate.admit(maxBacklog);
    gate.accepted(maxBacklog, '50');
    await counts.answer(maxBacklog, '51:51:', 100);
    return { gate, ...counts };
  }
  const pastShortestWait = () => new Promise((resolve) => setTimeout(resolve, 120));

  it('refuses at once on a figure younger than the shortest wait, without counting again', async () => {
    const { gate, waiting } = await fullGate(3);
    expect(await refused(gate.admit(1))).toBe(true);
    expect(waiting()).toBe(0);
  });

  it('counts again before refusing on an older figure: a quiet spell drained the backlog, or a refused caller came back', async () => {
    const { gate, answer, waiting } = await fullGate(3);
    await pastShortestWait();
    // long before the next sample is due, the calls the old figure would refuse wait for one new count
    const first = gate.admit(1);
    const second = gate.admit(2);
    expect(waiting()).toBe(1);
    await answer(0, '60:60:', 100);
    expect(await refused(first)).toBe(false);
    expect(await refused(second)).toBe(false);
  });

  it('refuses on the new count when the backlog is still full', async () => {
    const { gate, answer, waiting } = await fullGate(5);
    await pastShortestWait();
    const admission = refusalOf(gate.admit(2));
    expect(waiting()).toBe(1);
    await answer(4, '60:60:', 100);
    expect((await admission)?.details).toMatchObject({ backlog: 4, maxBacklog: 5 });
  });

  it('keeps the last figure when a count fails', async () => {
    let fail = false;
    const pool = {
      query: () => (fail ? Promise.reject(new Error('connection refused')) : Promise.resolve({ rows: [{ unfinished: 3, served: 0, snapshot: '70:70:' }] })),
    } as unknown as Pool;
    const gate = createBacklogGate(pool, { ALLOCATION_MAX_BACKLOG: 3, ALLOCATION_BACKLOG_SAMPLE_MS: 60_000 }, logger);
    await gate.admit(1);
    await new Promise((resolve) => setImmediate(resolve));
    fail = true;
    await pastShortestWait();
    expect((await refusalOf(gate.admit(1)))?.details).toMatchObject({ backlog: 3 });
  });
});
