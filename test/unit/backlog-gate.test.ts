import type { Pool } from 'pg';
import pino from 'pino';
import { createBacklogGate } from '../../src/inventory/jobs/backlog';

/** A pool whose counts of the backlog answer when the test says, with the count and snapshot it gives. */
function countingPool() {
  const pending: ((row: { count: number; snapshot: string }) => void)[] = [];
  const pool = { query: () => new Promise((resolve) => pending.push((row) => resolve({ rows: [row] }))) } as unknown as Pool;
  const answer = async (count: number, snapshot: string) => {
    pending.shift()!({ count, snapshot });
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { pool, answer, asked: () => pending.length };
}

const refused = (admit: () => void) => {
  try {
    admit();
    return false;
  } catch {
    return true;
  }
};

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
});
