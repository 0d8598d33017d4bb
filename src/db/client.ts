import { Pool, type PoolClient, type QueryConfig, type QueryResultRow } from 'pg';
import type { SessionTimeouts } from '../config';
import type { Logger } from '../logger';

/** Anything that runs a query: the pool, or the client of an open transaction. */
export type Queryable = Pick<Pool | PoolClient, 'query'>;

/** A client inside an open transaction; stores that must run in one ask for this type. */
export type Transaction = PoolClient & { readonly inTransaction: true };

/**
 * Every session plans without sequential scans where an index serves: each statement the service
 * runs, and each foreign-key check Postgres runs for it, has its index, so a plan that reads a whole
 * table could only come from statistics taken while the table was still empty. A session caches its
 * foreign-key checks' plans when it first runs them, which can be on an empty table, and keeps them
 * until the table is analysed again — with autovacuum off, for good.
 * Nor does it compile statements (jit): the service's statements are short, and a plan priced high —
 * a whole-table read under enable_seqscan=off, or statistics that expect many rows — would pay tens to
 * hundreds of milliseconds of compilation for a statement that runs in one.
 * The named prepared statements (queryPreparedRows) run their generic plan from the first run: one
 * plan per statement that no parameter value changes, so a batch plans nothing.
 */
const plannerOptions = '-c enable_seqscan=off -c jit=off -c plan_cache_mode=force_generic_plan';

/**
 * A pool of `size` connections, planning as plannerOptions says. With `timeouts`, every session runs with them as server settings
 * (lock_timeout, statement_timeout, idle_in_transaction_session_timeout; 0 leaves one unlimited):
 * no statement waits for a lock, and no transaction holds its locks, longer than the role allows.
 */
export function createPool(databaseUrl: string, size: number, logger?: Logger, applicationName = 'stockroom', timeouts?: SessionTimeouts): Pool {
  const pool = new Pool({
    connectionString: databaseUrl,
    max: size,
    application_name: applicationName,
    connectionTimeoutMillis: 5000,
    options: plannerOptions,
    ...(timeouts && {
      lock_timeout: timeouts.lockTimeoutMs,
      statement_timeout: timeouts.statementTimeoutMs,
      idle_in_transaction_session_timeout: timeouts.idleInTransactionTimeoutMs,
    }),
  });
  // An idle client losing its server (restart, terminate) must not crash the process; the pool replaces it.
  pool.on('error', (error) => logger?.warn({ err: error }, 'idle database connection lost'));
  return pool;
}

/** Runs fn in one transaction: commit when it returns, roll back when it throws. */
export async function withTransaction<T>(
  pool: Pool,
  fn: (tx: Transaction) => Promise<T>,
  options: { isolation?: 'read committed' | 'repeatable read' | 'serializable' } = {},
): Promise<T> {
  const client = await pool.connect();
  // A connection lost between two statements (server restart) is emitted on the checked-out client;
  // unheard, that event would crash the process. The next statement fails with it instead.
  const ignoreLoss = () => {};
  client.on('error', ignoreLoss);
  let broken = false;
  try {
    await client.query(options.isolation ? `begin isolation level ${options.isolation}` : 'begin');
    const result = await fn(client as Transaction);
    await client.query('commit');
    return result;
  } catch (error) {
    try {
      await client.query('rollback');
    } catch {
      broken = true;
    }
    throw error;
  } finally {
    client.off('error', ignoreLoss);
    client.release(broken);
  }
}

/** Runs one statement and returns its rows. */
export async function queryRows<T extends QueryResultRow>(db: Queryable, text: string, values: unknown[] = []): Promise<T[]> {
  const result = await db.query<T>(text, values);
  return result.rows;
}

/** Runs one statement and returns its first row, if any. */
export async function queryRow<T extends QueryResultRow>(db: Queryable, text: string, values: unknown[] = []): Promise<T | undefined> {
  const result = await db.query<T>(text, values);
  return result.rows[0];
}

/**
 * The most statement texts one process runs as named prepared statements (see queryPreparedRows):
 * each connection keeps every one it has run until it closes, about 0.4 MB of server memory for a
 * batch write with its plan, so the names must stay few.
 */
const mostPreparedTexts = 32;
const preparedNames = new Map<string, string>();

/**
 * Runs one statement as a named prepared statement and returns its rows: each connection parses
 * it once and runs its generic plan (plannerOptions) instead of planning every run. For statements
 * run many times a second whose text comes from a fixed set of parts and whose generic plan is the
 * good one whatever the parameters — it inserts, or finds each row it changes by primary key: the
 * batch's write (a dozen parts, about a millisecond to parse and plan) and the intake's insert.
 * Not for a statement whose plan should follow its parameters: on its generic plan the lot lock ran
 * eight times longer. Past mostPreparedTexts distinct texts a process runs them unnamed, as queryRows does.
 */
export async function queryPreparedRows<T extends QueryResultRow>(db: Queryable, text: string, values: unknown[]): Promise<T[]> {
  let name = preparedNames.get(text);
  if (name === undefined && preparedNames.size < mostPreparedTexts) {
    name = `stockroom_${preparedNames.size + 1}`;
    preparedNames.set(text, name);
  }
  const query: QueryConfig = name === undefined ? { text, values } : { name, text, values };
  const result = await db.query<T>(query);
  return result.rows;
}
