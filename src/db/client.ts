import { Pool, type PoolClient, type QueryResultRow } from 'pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { SessionTimeouts } from '../config';
import type { Logger } from '../logger';
import * as schema from './schema';

/** Anything that runs a query: the pool, or the client of an open transaction. */
export type Queryable = Pick<Pool | PoolClient, 'query'>;

/** A client inside an open transaction; stores that must run in one ask for this type. */
export type Transaction = PoolClient & { readonly inTransaction: true };

/**
 * A pool of `size` connections. With `timeouts`, every session runs with them as server settings
 * (lock_timeout, statement_timeout, idle_in_transaction_session_timeout; 0 leaves one unlimited):
 * no statement waits for a lock, and no transaction holds its locks, longer than the role allows.
 */
export function createPool(databaseUrl: string, size: number, logger?: Logger, applicationName = 'stockroom', timeouts?: SessionTimeouts): Pool {
  const pool = new Pool({
    connectionString: databaseUrl,
    max: size,
    application_name: applicationName,
    connectionTimeoutMillis: 5000,
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

export function createDrizzle(pool: Pool) {
  return drizzle(pool, { schema });
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

/** One SQL statement and its parameters ($1, $2, … in `text`). */
export type Statement = { text: string; values: unknown[] };

/**
 * Runs statements that change data and return nothing as ONE statement, each a part of its WITH,
 * so a batch's inserts cost one round trip instead of one each. Postgres runs the parts on one
 * snapshot in no set order and checks foreign keys at the end of the statement: a part may insert
 * rows another part's rows reference, but must not read what another part writes. Parts are plain
 * INSERT/UPDATE/DELETE statements without a WITH of their own; undefined ones (nothing to write)
 * are skipped.
 */
export async function runTogether(tx: Transaction, statements: readonly (Statement | undefined)[]): Promise<void> {
  const parts = statements.filter((statement) => statement !== undefined);
  if (parts.length === 0) return;
  if (parts.length === 1) {
    await tx.query(parts[0]!.text, parts[0]!.values);
    return;
  }
  const values: unknown[] = [];
  const texts = parts.map((part) => {
    const offset = values.length;
    values.push(...part.values);
    return part.text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
  });
  const last = texts.pop()!;
  await tx.query(`with ${texts.map((text, index) => `part${index} as (${text})`).join(',\n')}\n${last}`, values);
}

/**
 * Parameter values of a statement built from optional parts. `add` returns the placeholder ($1, $2, …)
 * of each value in turn; `isOneOf` the test of a text column against a list, as `= $n` for a single
 * value, whose index scan keeps the index's order (`= any(…)` of several does not).
 */
export function statementValues(): { values: unknown[]; add: (value: unknown) => string; isOneOf: (list: readonly string[]) => string } {
  const values: unknown[] = [];
  const add = (value: unknown) => `$${values.push(value)}`;
  return { values, add, isOneOf: (list) => (list.length === 1 ? `= ${add(list[0])}` : `= any(${add(list)}::text[])`) };
}

/** `where` with every condition joined by `and`, or nothing when there is none. */
export function whereAll(conditions: readonly string[]): string {
  return conditions.length === 0 ? '' : `where ${conditions.join('\n   and ')}`;
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
