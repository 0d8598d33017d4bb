import type { ChildProcess } from 'node:child_process';
import { queryRows, type Queryable } from '../../src/db/client';
import { waitFor } from './allocations';
import { rabbitmqctl } from './services';
import { ledgerDifferences, reservationBookDifferences } from './stock';
import { bearer } from './tokens';

/** What a fault drill counts once every accepted job should have ended: all zero and empty for a clean run. */
export type DrillAudit = {
  accepted: number;
  /** accepted jobs without a final status and its one result */
  lost: number;
  /** stock taken twice: ledger movements, reservations or held units beyond what the results say */
  doubled: number;
  /** lots holding more than they have, or below zero */
  oversold: number;
  /** lots the ledger does not explain (what `stockroom reconcile` reports) */
  ledger: unknown[];
  /** lots whose reserved or allocated stock differs from what reservations hold */
  book: unknown[];
  byStatus: Record<string, number>;
};

const finalStatuses = ['succeeded', 'partial', 'failed', 'dead_lettered'];

/** Counts lost, doubled and oversold jobs and checks the books, for the jobs `ids` accepted. */
export async function auditJobs(db: Queryable, ids: readonly string[]): Promise<DrillAudit> {
  const jobs = await queryRows<{ id: string; status: string; resultStatus: string | null }>(
    db,
    `select a.id, a.status, r.status as "resultStatus"
       from allocation_requests a left join allocation_results r on r.allocation_id = a.id
      where a.id = any($1::uuid[])`,
    [ids],
  );
  const byStatus: Record<string, number> = {};
  for (const job of jobs) byStatus[job.status] = (byStatus[job.status] ?? 0) + 1;
  const lost =
    ids.length -
    jobs.length +
    jobs.filter((job) => !finalStatuses.includes(job.status) || (job.status !== 'dead_lettered' && job.resultStatus !== job.status)).length;

  const [stock] = await queryRows<{ movements: number; reservations: number; held: number; oversold: number }>(
    db,
    `select (select count(*) from inventory_transactions where type in ('RESERVE', 'ALLOCATE'))::int as movements,
            (select count(*) from reservations)::int as reservations,
            (select coalesce(sum(reserved_quantity + allocated_quantity), 0) from inventory_items)::int as held,
            (select count(*) from inventory_items
              where quantity < 0 or reserved_quantity < 0 or allocated_quantity < 0 or reserved_quantity + allocated_quantity > quantity)::int as oversold`,
  );
  // every job of the database, the drill's and any before it, against the whole ledger
  const [served] = await queryRows<{ lines: number; reservations: number }>(
    db,
    `select coalesce(sum(jsonb_array_length(result -> 'allocatedItems')), 0)::int as lines, count(distinct reservation_id)::int as reservations
       from allocation_results`,
  );
  const doubled = Math.max(0, stock!.movements - served!.lines) + Math.max(0, stock!.reservations - served!.reservations);
  return {
    accepted: ids.length,
    lost,
    doubled,
    oversold: stock!.oversold,
    ledger: await ledgerDifferences(db),
    book: await reservationBookDifferences(db),
    byStatus,
  };
}

/** Accepts `count` jobs through the api's HTTP port, `concurrency` requests at a time; returns their ids in order. */
export async function acceptJobs(url: string, count: number, body: (index: number) => Record<string, unknown>, concurrency = 20): Promise<string[]> {
  const ids: string[] = new Array<string>(count);
  let next = 0;
  const send = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      const response = await fetch(`${url}/api/v1/allocations`, {
        method: 'POST',
        headers: { ...bearer('service', 'drill'), 'content-type': 'application/json' },
        body: JSON.stringify(body(index)),
      });
      if (response.status !== 202) throw new Error(`job ${index} was answered ${response.status}: ${await response.text()}`);
      ids[index] = ((await response.json()) as { allocationId: string }).allocationId;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, send));
  return ids;
}

/** Waits until every job has a final status; returns how many did. */
export async function waitForJobsToEnd(db: Queryable, ids: readonly string[], timeoutMs: number): Promise<number> {
  return waitFor(
    `${ids.length} jobs to end`,
    async () => {
      const [row] = await queryRows<{ n: number }>(db, `select count(*)::int as n from allocation_requests where id = any($1::uuid[]) and status = any($2)`, [
        ids,
        finalStatuses,
      ]);
      return row!.n === ids.length ? row!.n : undefined;
    },
    timeoutMs,
  );
}

/** Sends a signal to a child's whole process group (stack processes each lead their own). */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  process.kill(-child.pid!, signal);
}

/** The broker's connections of a vhost, by connection name, with the messages their channels hold unacknowledged. */
export async function brokerConnections(vhost: string): Promise<Map<string, number>> {
  const connections = new Map<string, number>();
  const channels = JSON.parse(await rabbitmqctl(['list_channels', '-p', vhost, 'connection', 'messages_unacknowledged', '--formatter', 'json'])) as {
    connection: string;
    messages_unacknowledged: number;
  }[];
  const names = JSON.parse(await rabbitmqctl(['list_connections', '-p', vhost, 'pid', 'client_properties', '--formatter', 'json'])) as {
    pid: string;
    client_properties: [string, string, string | number | boolean][] | Record<string, unknown>;
  }[];
  for (const connection of names) {
    // not always a list: a connection listed before its client sent its properties has none
    const properties = Array.isArray(connection.client_properties) ? connection.client_properties : [];
    const name = String(properties.find(([key]) => key === 'connection_name')?.[2] ?? connection.pid);
    const unacked = channels.filter((channel) => channel.connection === connection.pid).reduce((sum, channel) => sum + channel.messages_unacknowledged, 0);
    connections.set(name, unacked);
  }
  return connections;
}

/**
 * Counts the jobs a worker's transaction holds locked — its batch in flight, since a job reads as
 * queued until the transaction serving it commits. The lockers are named row by row (pgrowlocks):
 * an api process also locks job rows for a moment when it notes their messages confirmed, and
 * those jobs are not being served.
 */
export async function countJobsBeingServed(db: Queryable): Promise<number> {
  await db.query('create extension if not exists pgrowlocks');
  const [row] = await queryRows<{ n: number }>(
    db,
    `select count(*)::int as n from pgrowlocks('allocation_requests') l
      where exists (select 1 from pg_stat_activity s where s.pid = any(l.pids) and s.application_name like 'stockroom-worker-%')`,
  );
  return row!.n;
}
