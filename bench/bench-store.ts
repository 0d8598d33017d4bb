/** The benchmark harness's SQL: seeding the baseline's database, the ceiling probe's table, and what run.ts measures. */
import { v7 as uuidv7 } from 'uuid';
import { queryRow, queryRows, withTransaction, type Queryable, type Transaction } from '../src/db/client';
import type { Pool } from 'pg';
import { insertEmptyLots, lotColumns, type LotRow } from '../src/db/lot-store';
import { commitWrites } from '../src/db/writes';

/** The application_name of the harness's own connections, so its queries are not counted as the system's. */
export const harnessApplicationName = 'stockroom-bench-harness';

/**
 * The naive baseline's lock: every lot of one product (at one warehouse when the line names one) in
 * active warehouses, `SELECT … FOR UPDATE` in id order — one statement per line, as seed 001 does.
 */
export async function lockLotsOfLine(tx: Transaction, productId: string, warehouseId: string | undefined): Promise<LotRow[]> {
  return queryRows<LotRow>(
    tx,
    `select ${lotColumns}
       from inventory_items i join warehouses w on w.id = i.warehouse_id
      where i.product_id = $1 and w.active and ($2::text is null or i.warehouse_id = $2)
      order by i.id
        for update of i`,
    [productId, warehouseId ?? null],
  );
}

/** Inserts warehouses that do not exist yet, in one statement. */
export async function insertWarehouses(db: Queryable, ids: readonly string[]): Promise<void> {
  await db.query(`insert into warehouses (id, code, name) select id, id, 'Benchmark ' || id from unnest($1::text[]) as w(id) on conflict do nothing`, [ids]);
}

/** Inserts products that do not exist yet, in one statement. */
export async function insertProducts(db: Queryable, ids: readonly string[]): Promise<void> {
  await db.query(`insert into products (id, sku, name) select id, id, 'Benchmark ' || id from unnest($1::text[]) as p(id) on conflict do nothing`, [ids]);
}

/** Receives stock as new lots through the lot store, so the ledger explains every unit. */
export async function receiveLots(pool: Pool, lots: readonly { productId: string; warehouseId: string; quantity: number }[], actor: string): Promise<void> {
  const chunk = 5000;
  for (let start = 0; start < lots.length; start += chunk) {
    const part = lots.slice(start, start + chunk);
    await withTransaction(pool, async (tx: Transaction) => {
      const ids = await insertEmptyLots(
        tx,
        part.map((lot) => ({ productId: lot.productId, warehouseId: lot.warehouseId, receivedAt: new Date() })),
      );
      await commitWrites(tx, {
        movements: part.map((lot, i) => ({ lotId: ids[i]!, type: 'RECEIPT' as const, quantityDelta: lot.quantity, reason: 'benchmark seed', actor })),
      });
    });
  }
}

/** Records an allocation request the way the intake would, inside the caller's transaction. */
export async function insertAllocationRequest(
  tx: Transaction,
  request: { id: string; idempotencyKey: string; referenceId: string; referenceType: string; body: unknown; actor: string; status: string },
): Promise<void> {
  await tx.query(
    `insert into allocation_requests (id, owner, idempotency_key, request_hash, status, priority, mode, reference_id, reference_type, request, actor, attempts, started_at)
     values ($1, $7, $2, '', $3, 'medium', 'allocate', $4, $5, $6, $7, 1, now())`,
    [request.id, request.idempotencyKey, request.status, request.referenceId, request.referenceType, JSON.stringify(request.body), request.actor],
  );
}

/** Writes the final result row of an allocation. */
export async function insertAllocationResult(
  tx: Transaction,
  result: { allocationId: string; status: string; body: unknown; executionTimeMs: number },
): Promise<void> {
  await tx.query(`insert into allocation_results (allocation_id, status, result, execution_time_ms, completed_at) values ($1, $2, $3, $4, clock_timestamp())`, [
    result.allocationId,
    result.status,
    JSON.stringify(result.body),
    result.executionTimeMs,
  ]);
}

/** The ceiling probe's only table: one row per job, stamped when its batch was written. */
export async function createCeilingTable(db: Queryable): Promise<void> {
  await db.query(
    `create table if not exists ceiling_jobs (
       id uuid primary key,
       accepted_at timestamptz not null,
       body jsonb not null,
       completed_at timestamptz not null default clock_timestamp())`,
  );
}

/** Writes a batch of ceiling jobs in one statement; a redelivered job changes nothing. */
export async function insertCeilingJobs(db: Queryable, jobs: readonly { id: string; acceptedAt: number; body: unknown }[]): Promise<void> {
  await db.query(
    `insert into ceiling_jobs (id, accepted_at, body)
     select id, to_timestamp(at / 1000.0), body from unnest($1::uuid[], $2::float8[], $3::jsonb[]) as j(id, at, body)
     on conflict (id) do nothing`,
    [jobs.map((job) => job.id), jobs.map((job) => job.acceptedAt), jobs.map((job) => JSON.stringify(job.body))],
  );
}

/** Jobs with a final outcome so far: allocation results plus dead letters, or ceiling rows. */
export async function countFinished(db: Queryable, table: 'allocations' | 'ceiling'): Promise<number> {
  const sql =
    table === 'ceiling'
      ? `select count(*)::int as n from ceiling_jobs`
      : `select ((select count(*) from allocation_results) + (select count(*) from allocation_requests where status = 'dead_lettered'))::int as n`;
  return (await queryRow<{ n: number }>(db, sql))!.n;
}

/** The final outcome of each job: status, and accept and completion as epoch ms (null while unfinished). */
export type JobOutcome = { id: string; status: string | null; acceptedMs: number | null; completedMs: number | null };

/** Outcomes of the given allocations, from allocation_requests and allocation_results. */
export async function findAllocationOutcomes(db: Queryable, ids: readonly string[]): Promise<JobOutcome[]> {
  return queryRows<JobOutcome>(
    db,
    `select q.id, coalesce(r.status, case when q.status = 'dead_lettered' then q.status end) as status,
            extract(epoch from q.created_at) * 1000 as "acceptedMs",
            extract(epoch from coalesce(r.completed_at, case when q.status = 'dead_lettered' then q.updated_at end)) * 1000 as "completedMs"
       from allocation_requests q left join allocation_results r on r.allocation_id = q.id
      where q.id = any($1::uuid[])`,
    [ids],
  );
}

/** Outcomes of the given ceiling jobs. */
export async function findCeilingOutcomes(db: Queryable, ids: readonly string[]): Promise<JobOutcome[]> {
  return queryRows<JobOutcome>(
    db,
    `select id, 'succeeded' as status, extract(epoch from accepted_at) * 1000 as "acceptedMs", extract(epoch from completed_at) * 1000 as "completedMs"
       from ceiling_jobs where id = any($1::uuid[])`,
    [ids],
  );
}

/** Lots breaking an invariant: more reserved + allocated than on hand, or any quantity below zero. */
export async function countOversold(db: Queryable): Promise<{ oversold: number; negative: number }> {
  return (await queryRow<{ oversold: number; negative: number }>(
    db,
    `select count(*) filter (where reserved_quantity + allocated_quantity > quantity)::int as oversold,
            count(*) filter (where quantity < 0 or reserved_quantity < 0 or allocated_quantity < 0)::int as negative
       from inventory_items`,
  ))!;
}

/** Units reserved or allocated on the given products' lots. */
export async function unitsHeld(db: Queryable, productIds: readonly string[]): Promise<number> {
  return (await queryRow<{ n: number }>(
    db,
    `select coalesce(sum(reserved_quantity + allocated_quantity), 0)::int as n from inventory_items where product_id = any($1::text[])`,
    [productIds],
  ))!.n;
}

/** Backorder rows of the given products. */
export async function countBackorders(db: Queryable, productIds: readonly string[]): Promise<number> {
  return (await queryRow<{ n: number }>(db, `select count(*)::int as n from backorder_items where product_id = any($1::text[])`, [productIds]))!.n;
}

/** What the database's active backends wait on right now ('CPU' when they wait on nothing). */
export async function sampleWaits(db: Queryable, database: string): Promise<{ wait: string; n: number }[]> {
  const harness = harnessApplicationName;
  return queryRows<{ wait: string; n: number }>(
    db,
    `select coalesce(wait_event_type || ':' || wait_event, 'CPU') as wait, count(*)::int as n
       from pg_stat_activity
      where datname = $1 and state = 'active' and application_name <> $2
      group by 1`,
    [database, harness],
  );
}

/**
 * Stockroom worker sessions of a database waiting on a lock another worker process holds (sessions
 * are named stockroom-worker-<pid>): the waits partitions by product are there to remove.
 */
export async function sampleCrossWorkerLockWaits(db: Queryable, database: string): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    db,
    `select count(*)::int as n from pg_stat_activity w
      where w.datname = $1 and w.state = 'active' and w.wait_event_type = 'Lock' and w.application_name like 'stockroom-worker-%'
        and exists (select 1 from pg_stat_activity b
                     where b.pid = any(pg_blocking_pids(w.pid)) and b.application_name like 'stockroom-worker-%' and b.application_name <> w.application_name)`,
    [database],
  );
  return row!.n;
}

/** Pids of the backends connected to a database, the harness's own left out. */
export async function backendPids(db: Queryable, database: string): Promise<number[]> {
  const rows = await queryRows<{ pid: number }>(db, `select pid from pg_stat_activity where datname = $1 and application_name <> $2`, [
    database,
    harnessApplicationName,
  ]);
  return rows.map((row) => row.pid);
}

/**
 * Cumulative transaction and row counters of a database (the statistics system lags by up to a
 * second or so), and the WAL the whole server wrote (pg_stat_wal: bytes, records, full-page
 * images) — per job only on a server no one else writes to at the same time.
 */
export async function databaseCounters(db: Queryable, database: string): Promise<Record<string, number>> {
  return (await queryRow<Record<string, number>>(
    db,
    `select d.xact_commit::float8 as commits, d.xact_rollback::float8 as rollbacks, d.deadlocks::float8 as deadlocks,
            d.tup_inserted::float8 as inserted, d.tup_updated::float8 as updated,
            w.wal_bytes::float8 as "serverWalBytes", w.wal_records::float8 as "serverWalRecords", w.wal_fpi::float8 as "serverWalFullPages"
       from pg_stat_database d cross join pg_stat_wal w where d.datname = $1`,
    [database],
  ))!;
}

/** The server's version string, e.g. "15.20". */
export async function serverVersion(db: Queryable): Promise<string> {
  return (await queryRow<{ v: string }>(db, `select current_setting('server_version') as v`))!.v;
}

/** A few server settings that shape the figures. */
export async function serverSettings(db: Queryable): Promise<Record<string, string>> {
  const rows = await queryRows<{ name: string; setting: string }>(
    db,
    `select name, setting from pg_settings
      where name in ('fsync', 'synchronous_commit', 'shared_buffers', 'max_connections', 'wal_level', 'commit_delay', 'shared_preload_libraries')`,
  );
  return Object.fromEntries(rows.map((row) => [row.name, row.setting]));
}

/** A fresh id for the baseline's and the ceiling probe's jobs. */
export const newJobId = (): string => uuidv7();
