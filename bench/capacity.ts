/**
 * `npx tsx bench/capacity.ts`: what one Postgres primary can carry, from measured figures. Reads a
 * benchmark result (Postgres CPU, rows and commits per job; WAL bytes per job when the run recorded
 * them), optionally probes the Postgres of BENCH_DATABASE_URL for its WAL ceiling and the cost of an
 * availability read (--probe), and prints per-job costs, the jobs/s at which a primary of a given
 * size runs out of CPU or WAL, and what each step of docs/scaling.md buys. A model, not a promise:
 * it assumes Postgres CPU per job stays what it measured and scales with cores.
 */
import { Command, Option } from 'commander';
import path from 'node:path';
import fs from 'node:fs';
import { Client } from 'pg';
import { findLotsOfProducts } from '../src/db/lot-store';
import { harnessApplicationName, insertProducts, insertWarehouses, receiveLots } from './bench-store';
import { cpuTimeMs, createDatabase, migrationsOf, repoRoot } from './infra';
import { createPool } from '../src/db/client';

type Options = {
  result: string;
  walResult?: string;
  probe: boolean;
  walMbps: number;
  cores: number[];
  utilisation: number;
  targets: number[];
  readsPerJob: number;
};

type ScenarioRun = {
  system: string;
  scenario: string;
  finished: number;
  throughput: number;
  resources: { wallSeconds: number; cores: Record<string, number>; database: Record<string, number> | null } | null;
};

/** What one job of a scenario costs, medians over the runs of a result. */
type JobCost = {
  scenario: string;
  throughput: number;
  postgresCpuMs: number;
  systemCpuMs: number;
  commits: number;
  rowsWritten: number;
  walBytes: number | null;
};

const numbers = (value: string): number[] => value.split(',').map((part) => Number(part.trim()));
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

function parseArgs(argv: string[]): Options {
  const program = new Command('capacity')
    .description('What one Postgres primary can carry, from a benchmark result and (with --probe) this Postgres')
    .option('--result <file>', 'benchmark result for CPU, rows and commits per job', path.join(repoRoot, 'bench', 'results', 'latest.json'))
    .option('--wal-result <file>', 'benchmark result for WAL bytes per job (taken on a Postgres nothing else wrote to); default: --result')
    .option('--probe', 'measure the WAL ceiling and an availability read on the Postgres of BENCH_DATABASE_URL', false)
    .addOption(new Option('--wal-mbps <n>', 'WAL a primary may write, MB/s, when not probed').default(100).argParser(Number))
    .addOption(new Option('--cores <list>', 'primary sizes to project, in cores').default([2, 16, 64]).argParser(numbers))
    .addOption(new Option('--utilisation <share>', 'share of CPU and WAL bandwidth to plan for').default(0.7).argParser(Number))
    .addOption(new Option('--targets <list>', 'job rates to plan for, jobs/s').default([1_000, 5_000, 20_000, 100_000]).argParser(numbers))
    .addOption(new Option('--reads-per-job <n>', 'availability reads per allocation job').default(10).argParser(Number));
  program.parse(argv);
  return program.opts<Options>();
}

function readRuns(file: string): ScenarioRun[][] {
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { runs: ScenarioRun[][] }).runs;
}

/** Per-job costs of Stockroom's scenarios in a result, medians over its runs. */
function jobCosts(runs: ScenarioRun[][], walRuns: ScenarioRun[][]): JobCost[] {
  const scenarios = [
    ...new Set(
      runs
        .flat()
        .filter((run) => run.system === 'ours' && run.resources)
        .map((run) => run.scenario),
    ),
  ];
  return scenarios.map((scenario) => {
    const of = (all: ScenarioRun[][]) => all.flat().filter((run) => run.system === 'ours' && run.scenario === scenario && run.resources && run.finished > 0);
    const measured = of(runs);
    const perJob = (pick: (run: ScenarioRun) => number) => median(measured.map((run) => pick(run) / run.finished));
    const cpu = (run: ScenarioRun, parts: (part: string) => boolean) =>
      Object.entries(run.resources!.cores)
        .filter(([part]) => parts(part))
        .reduce((sum, [, cores]) => sum + cores, 0) *
      run.resources!.wallSeconds *
      1000;
    const walMeasured = of(walRuns).filter((run) => run.resources!.database?.serverWalBytes !== undefined);
    return {
      scenario,
      throughput: median(measured.map((run) => run.throughput)),
      postgresCpuMs: perJob((run) => cpu(run, (part) => part === 'postgres')),
      systemCpuMs: perJob((run) => cpu(run, (part) => part !== 'loadgen')),
      commits: perJob((run) => run.resources!.database?.commits ?? 0),
      rowsWritten: perJob((run) => (run.resources!.database?.inserted ?? 0) + (run.resources!.database?.updated ?? 0)),
      walBytes: walMeasured.length > 0 ? median(walMeasured.map((run) => run.resources!.database!.serverWalBytes! / run.finished)) : null,
    };
  });
}

/**
 * The WAL this Postgres absorbs: four sessions commit 250 rows of 400 bytes each (about a worker
 * batch's worth of WAL) as fast as they can for eight seconds; returns MB/s and commits/s.
 */
async function probeWal(url: string): Promise<{ mbps: number; commitsPerSecond: number }> {
  const admin = new Client({ connectionString: url, application_name: harnessApplicationName });
  await admin.connect();
  await admin.query(`create table wal_probe (id bigserial primary key, payload text not null)`);
  const sessions = await Promise.all(
    Array.from({ length: 4 }, async () => {
      const client = new Client({ connectionString: url, application_name: harnessApplicationName });
      await client.connect();
      return client;
    }),
  );
  const walBytes = async () => Number((await admin.query<{ b: string }>(`select wal_bytes::text as b from pg_stat_wal`)).rows[0]!.b);
  const before = await walBytes();
  const started = Date.now();
  let commits = 0;
  await Promise.all(
    sessions.map(async (client) => {
      while (Date.now() - started < 8000) {
        await client.query(`insert into wal_probe (payload) select repeat('x', 400) from generate_series(1, 250)`);
        commits++;
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  const written = (await walBytes()) - before;
  for (const client of sessions) await client.end();
  await admin.query(`drop table wal_probe`);
  await admin.end();
  return { mbps: written / 1e6 / seconds, commitsPerSecond: commits / seconds };
}

/** Postgres CPU of one availability read (the lots of one product, as GET /inventory/:id and check-availability read them), in ms. */
async function probeRead(url: string): Promise<number> {
  const pool = createPool(url, 1, undefined, harnessApplicationName);
  const products = Array.from({ length: 1000 }, (_, index) => `probe-${index}`);
  await insertWarehouses(pool, ['wh-1', 'wh-2', 'wh-3']);
  await insertProducts(pool, products);
  await receiveLots(
    pool,
    products.flatMap((productId) => ['wh-1', 'wh-2', 'wh-3'].map((warehouseId) => ({ productId, warehouseId, quantity: 100 }))),
    'capacity-probe',
  );
  const client = await pool.connect();
  const pid = (await client.query<{ pid: number }>(`select pg_backend_pid() as pid`)).rows[0]!.pid;
  const reads = 5000;
  for (let index = 0; index < 200; index++) await findLotsOfProducts(client, [products[index % products.length]!]);
  const before = cpuTimeMs(pid);
  for (let index = 0; index < reads; index++) await findLotsOfProducts(client, [products[(index * 7919) % products.length]!]);
  const after = cpuTimeMs(pid);
  client.release();
  await pool.end();
  if (before === null || after === null) throw new Error('the read probe needs a Postgres on this machine (it reads the backend CPU from /proc)');
  return (after - before) / reads;
}

const round = (value: number, digits = 0) => Number(value.toFixed(digits)).toLocaleString('en-US', { maximumFractionDigits: digits });

async function main(): Promise<void> {
  const options = parseArgs(process.argv);
  const costs = jobCosts(readRuns(options.result), readRuns(options.walResult ?? options.result));
  let walMbps = options.walMbps;
  let readMs: number | null = null;
  const lines: string[] = [];
  if (options.probe) {
    const base = process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
    process.env.BENCH_DATABASE_URL = base;
    const scratch = await createDatabase(`capacity_probe_${process.pid}`, migrationsOf());
    try {
      const wal = await probeWal(scratch.url);
      walMbps = wal.mbps;
      readMs = await probeRead(scratch.url);
      lines.push(
        `Probed ${new URL(base).host}: WAL ${round(wal.mbps, 1)} MB/s at ${round(wal.commitsPerSecond)} commits/s (4 sessions, 100 KB per commit); ` +
          `an availability read ${round(readMs * 1000)} µs of Postgres CPU.`,
        '',
      );
    } finally {
      await scratch.drop();
    }
  }

  lines.push('| scenario | measured jobs/s | Postgres CPU ms/job | system CPU ms/job | commits/job | rows written/job | WAL KB/job |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const cost of costs) {
    lines.push(
      `| ${cost.scenario} | ${round(cost.throughput)} | ${round(cost.postgresCpuMs, 3)} | ${round(cost.systemCpuMs, 3)} | ${round(cost.commits, 3)} | ` +
        `${round(cost.rowsWritten, 1)} | ${cost.walBytes === null ? '–' : round(cost.walBytes / 1024, 1)} |`,
    );
  }

  const budget = options.utilisation;
  lines.push('', `Ceilings of one primary at ${round(budget * 100)} % of its CPU and of ${round(walMbps, 1)} MB/s of WAL (jobs/s; the lower one binds):`, '');
  lines.push(`| scenario | WAL ceiling | ${options.cores.map((cores) => `CPU ceiling, ${cores} cores`).join(' | ')} |`);
  lines.push(`| --- | ---: | ${options.cores.map(() => '---:').join(' | ')} |`);
  for (const cost of costs) {
    const wal = cost.walBytes === null ? null : (walMbps * 1e6 * budget) / cost.walBytes;
    lines.push(
      `| ${cost.scenario} | ${wal === null ? '–' : round(wal)} | ${options.cores.map((cores) => round((cores * budget * 1000) / cost.postgresCpuMs)).join(' | ')} |`,
    );
  }

  const spread = costs.find((cost) => cost.scenario === 'spread');
  if (spread?.walBytes != null) {
    const largest = Math.max(...options.cores);
    const perPrimary = Math.min((largest * budget * 1000) / spread.postgresCpuMs, (walMbps * 1e6 * budget) / spread.walBytes);
    lines.push('', `Spread load, ${options.readsPerJob} availability reads per job, largest primary ${largest} cores:`, '');
    lines.push('| jobs/s | primaries (shards) | WAL MB/s per primary | reads/s | read CPU on the primary, cores | replicas for the reads |');
    lines.push('| ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const target of options.targets) {
      const shards = Math.ceil(target / perPrimary);
      const readCores = readMs === null ? null : (target * options.readsPerJob * readMs) / 1000;
      lines.push(
        `| ${round(target)} | ${shards} | ${round((target / shards) * (spread.walBytes / 1e6), 1)} | ${round(target * options.readsPerJob)} | ` +
          `${readCores === null ? '–' : round(readCores, 1)} | ${readCores === null ? '–' : Math.ceil(readCores / (largest * budget))} |`,
      );
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`capacity failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
