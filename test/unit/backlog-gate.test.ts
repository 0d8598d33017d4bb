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

/** The refusal admit throws, or undefined when it admits. */
const refusalOf = (admit: () => void): AppError | undefined => {
  try {
    admit();
    return undefined;
  } catch (error) {
    return error as AppError;
  }
};
const refused = (admit: () => void) => refusalOf(admit) !== undefined;

describe('the backlog gate', () => {
  const config = { ALLOCATION_MAX_BACKLOG: 3, ALLOCATION_BACKLOG_SAMPLE_MS: 0 };
  const logger = pino({ level: 'silent' });

  it('counts a job committed while a count ran once, when the count saw it', async () => {
    const { pool, answer } = countingPool();
    const gate = createBacklogGate(pool, config, logger);
    gate.admit(1);
    gate.accepted(1, '10');
    // the count's snapshot was taken after transaction 10 committed: the job is in its count
    await answer(1, '11:11:');
    gate.admit(1);
    gate.accepted(1, '11');
    await answer(2, '12:12:');
    gate.admit(1);
    gate.accepted(1, '12');
    expect(refused(() => gate.admit(1))).toBe(true);
    await answer(3, '13:13:');
    expect(refused(() => gate.admit(1))).toBe(true);
  });

  it('counts a job committed while a count ran once, when the count did not see it', async () => {
    const { pool, answer } = countingPool();
    const gate = createBacklogGate(pool, config, logger);
    gate.admit(1);
    // transaction 10 was still running when the count's snapshot was taken
    await answer(0, '10:11:10');
    gate.accepted(1, '10');
    gate.admit(1);
    gate.accepted(1, '11');
    await answer(1, '11:12:11');
    gate.admit(1);
    gate.accepted(1, '12');
    expect(refused(() => gate.admit(1))).toBe(true);
  });

  it('takes jobs again once a count finds the backlog served', async () => {
    const { pool, answer } = countingPool();
    const gate = createBacklogGate(pool, config, logger);
    gate.admit(3);
    gate.accepted(3, '20');
    await answer(3, '21:21:');
    expect(refused(() => gate.admit(1))).toBe(true);
    await answer(0, '30:30:');
    expect(refused(() => gate.admit(1))).toBe(false);
  });

  it('asks a refused caller to wait as long as the workers take to make room, at their recent rate', async () => {
    const { pool, answer } = countingPool();
    const gate = createBacklogGate(pool, { ALLOCATION_MAX_BACKLOG: 100, ALLOCATION_BACKLOG_SAMPLE_MS: 0 }, logger);
    gate.admit(1);
    // 100 unfinished; 400 served in the last two seconds: 200 a second
    await answer(100, '40:40:', 400);
    expect(refusalOf(() => gate.admit(50))?.details).toEqual({ retryAfterSeconds: 1, retryAfterMs: 250, backlog: 100, maxBacklog: 100 });
    // nothing served lately: the longest wait
    await answer(100, '41:41:', 0);
    expect(refusalOf(() => gate.admit(1))?.details).toMatchObject({ retryAfterSeconds: 1, retryAfterMs: 1000 });
  });

  it('counts again when it refuses, so that a caller coming back is judged on a newer count', async () => {
    const { pool, answer, waiting } = countingPool();
    const gate = createBacklogGate(pool, { ALLOCATION_MAX_BACKLOG: 3, ALLOCATION_BACKLOG_SAMPLE_MS: 60_000 }, logger);
    gate.admit(3);
    gate.accepted(3, '50');
    await answer(3, '51:51:', 100);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(refused(() => gate.admit(1))).toBe(true);
    // long before the next sample is due, the refusal asked for a count
    expect(waiting()).toBe(1);
    await answer(0, '60:60:', 100);
    expect(refused(() => gate.admit(1))).toBe(false);
  });
});
