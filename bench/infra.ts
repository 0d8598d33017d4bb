/** The benchmark's own services and processes: fresh databases and vhosts, real child processes, CPU accounting. */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { migrate, migrationsFolder } from '../src/db/migrate';

const run = promisify(execFile);

/** The repository root, where src/main.ts and bench/ live. */
export const repoRoot = path.resolve(__dirname, '..');

/** Another revision checked out beside this one (sharing its node_modules); `remove` takes it away again. */
export type OtherCheckout = { revision: string; commit: string; root: string; remove(): void };

/** Runs git in this repository and returns what it printed, trimmed; throws when git fails. */
export function git(args: readonly string[]): string {
  return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Checks `revision` out in a folder under `parent` (a detached git worktree), to run its Stockroom. */
export function checkOut(revision: string, parent: string): OtherCheckout {
  const commit = git(['rev-parse', '--verify', '--quiet', `${revision}^{commit}`]);
  const root = path.join(parent, `checkout-${commit.slice(0, 12)}`);
  git(['worktree', 'add', '--detach', root, commit]);
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  return { revision, commit, root, remove: () => void git(['worktree', 'remove', '--force', root]) };
}

/** The migrations of the Stockroom checked out at `root` (this one's by default). */
export function migrationsOf(root = repoRoot): string {
  return path.join(root, path.relative(repoRoot, migrationsFolder));
}

/** The Postgres server to benchmark on: BENCH_DATABASE_URL or DATABASE_URL (its database name is ignored), else local. */
export function baseDatabaseUrl(): string {
  return process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
}

/** The RabbitMQ broker to benchmark on: BENCH_AMQP_URL or AMQP_URL, else local. */
export function baseAmqpUrl(): string {
  return process.env.BENCH_AMQP_URL || process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672';
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function asAdmin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: withDatabase(baseDatabaseUrl(), 'postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export type Resource = { name: string; url: string; drop(): Promise<void> };

/** A new database of this run's own; with `migrations` (a folder of them), that Stockroom schema is applied. */
export async function createDatabase(name: string, migrations: string | null): Promise<Resource> {
  await asAdmin((client) => client.query(`create database "${name}"`));
  const url = withDatabase(baseDatabaseUrl(), name);
  if (migrations !== null) await migrate(url, migrations);
  return { name, url, drop: () => asAdmin((client) => client.query(`drop database if exists "${name}" with (force)`)).then(() => undefined) };
}

/** Runs rabbitmqctl; only vhost-scoped commands, since other users share the broker. */
export async function rabbitmqctl(args: readonly string[]): Promise<string> {
  const { stdout } = await run('rabbitmqctl', [...args], { timeout: 60_000 });
  return stdout;
}

/** A new RabbitMQ vhost of this run's own, so its queues touch nothing else on the broker. */
export async function createVhost(name: string): Promise<Resource> {
  const base = new URL(baseAmqpUrl());
  const user = decodeURIComponent(base.username || 'guest');
  await rabbitmqctl(['add_vhost', name]);
  await rabbitmqctl(['set_permissions', '-p', name, user, '.*', '.*', '.*']);
  base.pathname = `/${encodeURIComponent(name)}`;
  return { name, url: base.toString(), drop: () => rabbitmqctl(['delete_vhost', name]).then(() => undefined) };
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A child process the benchmark started; stop() ends it (SIGTERM, then SIGKILL after a grace period). */
export type Proc = { name: string; pid: number; child: ChildProcess; logFile: string; exited: Promise<number | null>; stop(): Promise<number | null> };

/** Starts a TypeScript entry point (a path in the checkout at `root`) under node with tsx, logging to `logDir/<name>.log`. */
export function spawnTs(
  name: string,
  script: string,
  args: readonly string[],
  env: Record<string, string>,
  logDir: string,
  nodeArgs: readonly string[] = [],
  root = repoRoot,
): Proc {
  const logFile = path.join(logDir, `${name}.log`);
  const log = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    name,
    pid: child.pid,
    child,
    logFile,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(killer);
      return code;
    },
  };
}

/** Polls `url` until it answers 200; fails early when the process dies. */
export async function waitReady(url: string, proc: Proc, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited with ${proc.child.exitCode}; see ${proc.logFile}`);
    try {
      const response = await fetch(url);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${proc.name} was not ready at ${url} within ${timeoutMs} ms; see ${proc.logFile}`);
}

const ticksPerSecond = 100; // USER_HZ on Linux

/** CPU time (user + system) a process has used, in ms; null when it is gone or /proc is missing. */
export function cpuTimeMs(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name, which may hold spaces, start at index 2 (state)
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return null;
  }
}

/** Busy and total CPU time of the whole machine since boot, in ms. */
export function machineCpu(): { busyMs: number; totalMs: number } {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const total = values.reduce((sum, value) => sum + value, 0);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    return { busyMs: ((total - idle) * 1000) / ticksPerSecond, totalMs: (total * 1000) / ticksPerSecond };
  } catch {
    return { busyMs: 0, totalMs: 0 };
  }
}

/** Pids of processes whose command name is `comm` (e.g. beam.smp for RabbitMQ). */
export function pidsNamed(comm: string): number[] {
  try {
    return fs
      .readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .filter((pid) => {
        try {
          return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm;
        } catch {
          return false;
        }
      })
      .map(Number);
  } catch {
    return [];
  }
}

/** A process and all its descendants (the baseline forks one server per core). */
export function processTree(root: number): number[] {
  const parents = new Map<number, number[]>();
  try {
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    return [root];
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(parents.get(tree[i]!) ?? []));
  return tree;
}
