import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { createTestVhost, type TestVhost } from './amqp';
import { createTestDatabase, type TestDatabase } from './database';
import { migrateEntry, serviceEntry } from './image';
import { waitFor } from './allocations';
import { testJwtSecret } from './tokens';

export const projectRoot = path.resolve(__dirname, '../..');

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export type RunResult = { code: number | null; stdout: string; stderr: string };

/** Runs a command in the project to its end and returns its exit code and output. */
export function run(command: string, args: readonly string[], env: Record<string, string>, timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: projectRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** One process of a stack: its role and the child process (the leader of its own process group). */
export type StackProcess = { role: 'api' | 'worker'; child: ChildProcess };

export type Stack = {
  url: string;
  /** The environment the processes run with: DATABASE_URL, AMQP_URL, JWT_SECRET, … */
  env: Record<string, string>;
  db: TestDatabase;
  vhost: TestVhost;
  /** The processes started so far, the api first. */
  processes: StackProcess[];
  /** Starts one more worker process (with `env` added to the stack's); resolves once it is spawned. */
  addWorker(env?: Record<string, string>): ChildProcess;
  /** What the processes wrote, for a failing test to show. */
  logs(): string;
  stop(): Promise<void>;
};

export type StackOptions = {
  env?: Record<string, string>;
  apiEnv?: Record<string, string>;
  /** Worker processes to start with the api (1 unless said). */
  workers?: number;
};

/**
 * The service as docker compose runs it, as real processes of the compiled code: the migrations,
 * then an api and `workers` workers (`node dist/main.js --role …`), on a database and vhost of the
 * test file's own and a free port; `env` adds to or replaces their environment, `apiEnv` the api's
 * alone. Resolves once /health/ready answers 200.
 */
export async function startStack(label: string, options: StackOptions = {}): Promise<Stack> {
  const db = await createTestDatabase(label);
  const vhost = await createTestVhost(label);
  const port = await freePort();
  const env = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: db.url,
    AMQP_URL: vhost.url,
    JWT_SECRET: testJwtSecret,
    HOST: '127.0.0.1',
    PORT: String(port),
    ADMIN_PORT: '0',
    MIGRATE_ON_START: 'false',
    ...options.env,
  };
  const url = `http://127.0.0.1:${port}`;
  const processes: StackProcess[] = [];
  let logs = '';
  const spawnRole = (role: StackProcess['role'], roleEnv: Record<string, string> = {}): ChildProcess => {
    const child = spawn(process.execPath, [serviceEntry, '--role', role], {
      cwd: projectRoot,
      env: { ...process.env, ...env, ...roleEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    // each whole line is kept with the process's name in front
    const name = `${role} ${child.pid}`;
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream.on('data', (chunk: Buffer) => {
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop()!;
        for (const line of lines) logs += `[${name}] ${line}\n`;
      });
    }
    processes.push({ role, child });
    return child;
  };
  const stop = async () => {
    // Each runs in its own process group: signal the whole group (waking it first, should a drill have frozen it).
    await Promise.all(
      processes.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) {
              resolve();
              return;
            }
            child.once('exit', () => resolve());
            process.kill(-child.pid!, 'SIGCONT');
            process.kill(-child.pid!, 'SIGTERM');
          }),
      ),
    );
    await db.drop();
    await vhost.drop();
  };
  try {
    const migrated = await run(process.execPath, [migrateEntry], env);
    if (migrated.code !== 0) throw new Error(`the migrations failed: ${migrated.stderr}`);
    spawnRole('api', options.apiEnv);
    for (let index = 0; index < (options.workers ?? 1); index++) spawnRole('worker');
    await waitFor(
      'the api to be ready',
      async () => {
        const exited = processes.map(({ child }) => child).find((child) => child.exitCode !== null);
        if (exited) throw new Error(`a process of the stack exited with ${exited.exitCode}:\n${logs}`);
        const ready = await fetch(`${url}/health/ready`).then(
          (response) => response.ok,
          () => false,
        );
        return ready ? true : undefined;
      },
      45_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, env, db, vhost, processes, addWorker: (workerEnv) => spawnRole('worker', workerEnv), logs: () => logs, stop };
}
