import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { waitFor } from '../helpers/allocations';
import { createTestVhost, type TestVhost } from '../helpers/amqp';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { countJobsBeingServed } from '../helpers/drill';
import { execForm, healthcheckEntry, migrateEntry, readDockerfile } from '../helpers/image';
import { freePort, projectRoot, run } from '../helpers/stack';
import { expectBooksBalanced, receiveLots, seedCatalogue, totalsOf } from '../helpers/stock';
import { bearer } from '../helpers/tokens';

/**
 * The shutdown drill: the image's processes (its ENTRYPOINT and CMD: tini, then node on the
 * compiled entry point) get SIGTERM the way `docker stop` and the kubelet send it, to the process
 * the container runs, while jobs are in flight.
 */
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const shutdownTimeoutMs = loadConfig({}).SHUTDOWN_TIMEOUT_MS;
const runtime = readDockerfile().stages.at(-1)!;
const entrypoint = execForm(runtime.instructions.find((entry) => entry.keyword === 'ENTRYPOINT')!.args);
const command = execForm(runtime.instructions.find((entry) => entry.keyword === 'CMD')!.args);

let env: Record<string, string>;
const processes: Proc[] = [];
let db: TestDatabase;
let vhost: TestVhost;

type Proc = { name: string; child: ChildProcess; port: number; output: () => string; exited: Promise<{ code: number | null; at: number }> };

/** Starts the image's command with a role, as the container would run it; `port` is where it serves health. */
async function startContainerProcess(name: string, role: 'api' | 'worker'): Promise<Proc> {
  const port = await freePort();
  const [program, ...args] = [...entrypoint, ...command, '--role', role];
  const child = spawn(program, args, {
    cwd: projectRoot,
    // TINI_SUBREAPER: tini is not PID 1 here; as a subreaper it still reaps and forwards signals the same way
    env: { ...process.env, ...env, ...(role === 'api' ? { PORT: String(port), ADMIN_PORT: '0' } : { ADMIN_PORT: String(port) }), TINI_SUBREAPER: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once('exit', (code) => resolve({ code, at: Date.now() })));
  const proc = { name, child, port, output: () => output, exited };
  processes.push(proc);
  await waitFor(
    `${name} to be ready`,
    async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${output}`);
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
        (response) => response.ok,
        () => false,
      );
      return ready ? true : undefined;
    },
    45_000,
  );
  return proc;
}

/** Sends SIGTERM to the container's process and expects it to exit 0 within the shutdown timeout; returns how long it took. */
async function stopContainerProcess(proc: Proc): Promise<number> {
  const sentAt = Date.now();
  proc.child.kill('SIGTERM');
  const { code, at } = await proc.exited;
  // the process's output (less the request lines) shows up in the failure when it did not stop cleanly
  const output =
    code === 0
      ? ''
      : proc
          .output()
          .split('\n')
          .filter((line) => !line.includes('"request completed"'))
          .join('\n');
  expect({ name: proc.name, code, output }).toEqual({ name: proc.name, code: 0, output: '' });
  expect(at - sentAt).toBeLessThan(shutdownTimeoutMs);
  expect(proc.output()).toMatch(/"signal":"SIGTERM".*shutting down/);
  expect(proc.output()).toContain('"msg":"stopped"');
  return at - sentAt;
}

async function count(sql: string): Promise<number> {
  return (await db.pool.query<{ n: number }>(sql)).rows[0]!.n;
}

// production, as in the image: a secret of its own, since production refuses the test suite's published one
const jwtSecret = randomBytes(48).toString('base64');
const service = bearer('service', 'drill', jwtSecret);

/** POST /allocations to the api process; the id of the accepted job, or why it was not accepted. */
async function submit(port: number, index: number): Promise<{ accepted: string } | { refused: string }> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/api/v1/allocations`, {
      method: 'POST',
      headers: { ...service, 'content-type': 'application/json' },
      body: JSON.stringify({
        items: [{ productId: index % 3 === 0 ? 'drill-q' : 'drill-p', quantity: (index % 3) + 1 }],
        referenceId: `drill-${index}`,
        referenceType: 'order',
        mode: index % 4 === 0 ? 'allocate' : 'reserve',
      }),
    });
    const body = (await response.json()) as { allocationId?: string };
    return response.status === 202 ? { accepted: body.allocationId! } : { refused: `HTTP ${response.status}` };
  } catch (error) {
    return { refused: (error as Error).message };
  }
}

beforeAll(async () => {
  db = await createTestDatabase('shutdown-drill');
  vhost = await createTestVhost('shutdown-drill');
  if (spawnSync(entrypoint[0]!, ['--version']).status !== 0) throw new Error(`the image's ENTRYPOINT ${entrypoint[0]} is missing here: apt-get install tini`);
  env = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    DATABASE_URL: db.url,
    AMQP_URL: vhost.url,
    JWT_SECRET: jwtSecret,
    HOST: '127.0.0.1',
    MIGRATE_ON_START: 'false',
    WORKER_BATCH_SIZE: '20',
    WORKER_CONCURRENCY: '40',
    ALLOCATION_RELAY_AFTER_MS: '500',
  };
  const migrated = await run(process.execPath, [migrateEntry], env);
  if (migrated.code !== 0) throw new Error(`the migrations failed: ${migrated.stderr}`);
  await seedCatalogue(db.pool, { warehouses: [{ id: 'wh-a' }, { id: 'wh-b' }], products: ['drill-p', 'drill-q'] });
  await receiveLots(db.pool, [
    { productId: 'drill-p', warehouseId: 'wh-a', quantity: 200 },
    { productId: 'drill-p', warehouseId: 'wh-b', quantity: 200 },
    { productId: 'drill-q', warehouseId: 'wh-a', quantity: 150 },
  ]);
}, 60_000);

afterAll(async () => {
  for (const proc of processes) if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
  await db.drop();
  await vhost.drop();
});

describe('SIGTERM to the container process while jobs are in flight', () => {
  it('lets the worker and the api finish what they hold, exit 0 within the shutdown timeout, and every accepted job gets exactly one result', async () => {
    const api = await startContainerProcess('api', 'api');
    const first = await startContainerProcess('worker-1', 'worker');

    // the image's HEALTHCHECK says healthy for both roles
    for (const [proc, portVariable] of [
      [api, 'PORT'],
      [first, 'ADMIN_PORT'],
    ] as const) {
      const check = await run(process.execPath, [healthcheckEntry], {
        ...env,
        [portVariable]: String(proc.port),
        ...(portVariable === 'PORT' ? {} : { PORT: '1' }),
      });
      expect({ role: proc.name, code: check.code }).toEqual({ role: proc.name, code: 0 });
    }

    // every result write sleeps, so the worker surely has batches in flight when the signal comes
    await db.pool.query(`
      create function slow_results() returns trigger language plpgsql as $$ begin perform pg_sleep(0.01); return new; end $$;
      create trigger slow_results before insert on allocation_results for each row execute function slow_results();`);

    const firstWave = await Promise.all(Array.from({ length: 200 }, (_, index) => submit(api.port, index)));
    expect(firstWave.filter((outcome) => 'refused' in outcome)).toEqual([]);

    const atSignal = await waitFor(
      'the worker to be mid-batch',
      async () => {
        const finished = await count(`select count(*)::int as n from allocation_results`);
        const beingServed = await countJobsBeingServed(db.pool);
        return finished > 0 && beingServed > 0 ? { finished, beingServed } : undefined;
      },
      30_000,
    );
    const workerStopMs = await stopContainerProcess(first);
    const finishedAtExit = await count(`select count(*)::int as n from allocation_results`);
    log.info({ atSignal, workerStopMs, finishedAtExit }, 'worker stopped');
    // the batches it was serving finished and were settled before it exited
    expect(finishedAtExit).toBeGreaterThanOrEqual(atSignal.finished + atSignal.beingServed);

    // the api gets SIGTERM while a second wave of requests is on the wire
    const secondWave = Array.from({ length: 150 }, (_, index) => submit(api.port, 1000 + index));
    await waitFor('the first answers of the second wave', async () =>
      (await count(`select count(*)::int as n from allocation_requests`)) > 210 ? true : undefined,
    );
    const apiStopMs = await stopContainerProcess(api);
    const secondOutcomes = await Promise.all(secondWave);
    log.info({ apiStopMs, refused: secondOutcomes.filter((outcome) => 'refused' in outcome).length }, 'api stopped');

    // a new worker serves what is left: the jobs the first one never started and those accepted since
    await db.pool.query(`drop trigger slow_results on allocation_results; drop function slow_results();`);
    const second = await startContainerProcess('worker-2', 'worker');
    const accepted = await count(`select count(*)::int as n from allocation_requests`);
    await waitFor(
      'every accepted job to have its result',
      async () => ((await count(`select count(*)::int as n from allocation_results`)) === accepted ? true : undefined),
      60_000,
    );
    await stopContainerProcess(second);

    // every job answered 202 is one the service keeps, and every job it keeps has exactly one result
    const answered = [...firstWave, ...secondOutcomes].flatMap((outcome) => ('accepted' in outcome ? [outcome.accepted] : []));
    const { rows: jobs } = await db.pool.query<{
      id: string;
      status: string;
      resultStatus: string;
      reservationId: string | null;
      result: { allocatedItems: { productId: string; quantity: number }[] };
    }>(
      `select a.id, a.status, r.status as "resultStatus", r.result, r.reservation_id as "reservationId"
         from allocation_requests a join allocation_results r on r.allocation_id = a.id`,
    );
    expect(jobs).toHaveLength(accepted);
    const kept = new Set(jobs.map((job) => job.id));
    expect(answered.filter((id) => !kept.has(id))).toEqual([]);
    for (const job of jobs) {
      expect(['succeeded', 'partial', 'failed']).toContain(job.status);
      expect(job.resultStatus).toBe(job.status);
    }
    const succeeded = jobs.filter((job) => job.status === 'succeeded');
    expect(new Set(succeeded.map((job) => job.reservationId)).size).toBe(succeeded.length);
    expect(await count(`select count(*)::int as n from reservations`)).toBe(succeeded.length);
    for (const productId of ['drill-p', 'drill-q']) {
      const taken = jobs
        .flatMap((job) => job.result.allocatedItems)
        .filter((item) => item.productId === productId)
        .reduce((sum, item) => sum + item.quantity, 0);
      const totals = await totalsOf(db.pool, productId);
      expect(totals.reserved + totals.allocated).toBe(taken);
    }
    await expectBooksBalanced(db.pool);
  }, 180_000);
});
