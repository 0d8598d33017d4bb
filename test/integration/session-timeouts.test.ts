import type { Pool } from 'pg';
import { loadConfig, sessionTimeoutsFor } from '../../src/config';
import { createPool, withTransaction } from '../../src/db/client';
import { isConnectionError, isRetryableTransactionError, translatePgError } from '../../src/db/pg-errors';
import { AppError } from '../../src/errors';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

let db: TestDatabase;
const pools: Pool[] = [];

beforeAll(async () => {
  db = await createTestDatabase('session-timeouts');
  await db.pool.query(`create table guarded (id int primary key, n int not null); insert into guarded values (1, 0)`);
});
afterAll(async () => {
  for (const pool of pools) await pool.end();
  await db.drop();
});

function pool(timeouts: { lockTimeoutMs: number; statementTimeoutMs: number; idleInTransactionTimeoutMs: number }): Pool {
  const created = createPool(db.url, 2, undefined, 'session-timeouts-test', timeouts);
  pools.push(created);
  return created;
}

/** Holds the row lock in a transaction of its own until `release` resolves. */
async function holdLock(release: Promise<void>): Promise<void> {
  await withTransaction(db.pool, async (tx) => {
    await tx.query(`select * from guarded where id = 1 for update`);
    await release;
  });
}

describe('session timeouts of a pool', () => {
  it('gives up waiting for a lock after lock_timeout, with an error callers retry and the api answers 503', async () => {
    let release!: () => void;
    const held = holdLock(new Promise<void>((resolve) => (release = resolve)));
    const limited = pool({ lockTimeoutMs: 200, statementTimeoutMs: 0, idleInTransactionTimeoutMs: 0 });
    const started = Date.now();
    const error = await withTransaction(limited, (tx) => tx.query(`update guarded set n = n + 1 where id = 1`)).catch((failure: unknown) => failure);
    const waited = Date.now() - started;
    release();
    await held;
    expect((error as { code?: string }).code).toBe('55P03');
    expect(waited).toBeGreaterThanOrEqual(190);
    expect(waited).toBeLessThan(5000);
    expect(isRetryableTransactionError(error)).toBe(true);
    const translated = translatePgError(error);
    expect(translated).toBeInstanceOf(AppError);
    expect((translated as AppError).status).toBe(503);
  });

  it('cancels a statement that runs longer than statement_timeout', async () => {
    const limited = pool({ lockTimeoutMs: 0, statementTimeoutMs: 150, idleInTransactionTimeoutMs: 0 });
    const error = await limited.query(`select pg_sleep(2)`).catch((failure: unknown) => failure);
    expect((error as { code?: string }).code).toBe('57014');
    expect(isRetryableTransactionError(error)).toBe(true);
  });

  it('ends a session left idle in its transaction, so its locks go and another session gets the row', async () => {
    const limited = pool({ lockTimeoutMs: 0, statementTimeoutMs: 0, idleInTransactionTimeoutMs: 300 });
    const frozen = await limited.connect();
    frozen.on('error', () => {});
    await frozen.query('begin');
    await frozen.query(`select * from guarded where id = 1 for update`);
    // the holder stops talking, as a frozen process would; the server ends its session
    const started = Date.now();
    await db.pool.query(`update guarded set n = n + 1 where id = 1`);
    expect(Date.now() - started).toBeLessThan(5000);
    const error = await frozen.query(`update guarded set n = n + 100 where id = 1`).catch((failure: unknown) => failure);
    frozen.release(true);
    expect(isConnectionError(error)).toBe(true);
    const { rows } = await db.pool.query(`select n from guarded where id = 1`);
    expect(rows[0].n).toBeLessThan(100);
  });
});

describe('the limits of each role', () => {
  it('are configured apart for the api and the worker, with defaults', () => {
    const config = loadConfig({ API_LOCK_TIMEOUT_MS: '1500', WORKER_IDLE_IN_TRANSACTION_TIMEOUT_MS: '0' });
    expect(sessionTimeoutsFor(config, 'api')).toEqual({ lockTimeoutMs: 1500, statementTimeoutMs: 10_000, idleInTransactionTimeoutMs: 10_000 });
    expect(sessionTimeoutsFor(config, 'worker')).toEqual({ lockTimeoutMs: 2000, statementTimeoutMs: 30_000, idleInTransactionTimeoutMs: 0 });
  });
});
