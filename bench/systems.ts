/** Starting, seeding and stopping the three systems under test: Stockroom, the naive baseline, the ceiling probe. */
import { randomBytes } from 'node:crypto';
import amqplib, { type Channel, type ChannelModel } from 'amqplib';
import type { Pool } from 'pg';
import { allocationPartitions, workQueues } from '../src/amqp/topology';
import { signToken } from '../src/auth/tokens';
import { createPool } from '../src/db/client';
import { harnessApplicationName, insertProducts, insertWarehouses, receiveLots } from './bench-store';
import { createDatabase, createVhost, freePort, migrationsOf, spawnTs, waitReady, type Proc, type Resource } from './infra';
import { say } from './progress';
import { hotProducts, spreadLotStock, type Endpoint, type Sizes, type System } from './scenarios';
import { benchWarehouses, spreadProductId } from './workloads';

/** A fresh signing secret per run: the systems run with NODE_ENV=production, which refuses published ones. */
const benchJwtSecret = randomBytes(32).toString('base64url');

/** Tokens the load generator and the seeding use. */
export const tokens = {
  admin: () => signToken(benchJwtSecret, { sub: 'bench-admin', role: 'admin' }, 6 * 3600),
  service: () => signToken(benchJwtSecret, { sub: 'bench-service', role: 'service' }, 6 * 3600),
};

/** Watches the depth and consumers of a system's job queues (one, or one per partition) through a channel of the harness's own. */
export class QueueWatch {
  private channel: Channel | null = null;

  private constructor(
    private readonly model: ChannelModel,
    readonly queues: readonly string[],
  ) {}

  static async open(url: string, queues: string | readonly string[]): Promise<QueueWatch> {
    return new QueueWatch(
      await amqplib.connect(url, { clientProperties: { connection_name: harnessApplicationName } }),
      typeof queues === 'string' ? [queues] : queues,
    );
  }

  get queue(): string {
    return this.queues.join(', ');
  }

  /** Messages ready in all the queues, and the fewest consumers any of them has; null while one does not exist. */
  async look(): Promise<{ messages: number; consumers: number } | null> {
    try {
      if (!this.channel) {
        this.channel = await this.model.createChannel();
        // a passive check of a missing queue closes the channel; the next look opens another
        this.channel.on('error', () => undefined);
        this.channel.on('close', () => {
          this.channel = null;
        });
      }
      const channel = this.channel;
      const states = await Promise.all(this.queues.map((queue) => channel.checkQueue(queue)));
      return {
        messages: states.reduce((sum, state) => sum + state.messageCount, 0),
        consumers: Math.min(...states.map((state) => state.consumerCount)),
      };
    } catch {
      return null;
    }
  }

  async close(): Promise<void> {
    await this.model.close().catch(() => undefined);
  }
}

export type SystemOptions = {
  runId: string;
  logDir: string;
  logLevel: string;
  workers: number;
  /** Extra environment for Stockroom's processes, e.g. WORKER_BATCH_SIZE. */
  env: Record<string, string>;
  nodeArgs: string[];
  keep: boolean;
  /** ANALYZE the database once seeded, while the job tables are still empty (statistics a fresh deployment may have). */
  staleStats: boolean;
  /** The checkout whose Stockroom runs, its migrations and its src/main.ts: this one, or another revision's (`--against`). */
  root: string;
};

/** A started system, ready for load. */
export type SystemHandle = {
  system: System;
  baseUrl: string;
  database: Resource;
  /** The harness's own pool on the system's database. */
  pool: Pool;
  /** Processes by role, for CPU accounting. */
  roles: Record<string, Proc[]>;
  queue: QueueWatch | null;
  /** Which endpoints this build has (scenarios of the others are skipped; without adjust, lots are seeded by SQL). */
  endpoints: Set<Endpoint | 'adjust'>;
  /** Where completions are read: the allocation tables, the ceiling table, or nowhere (synchronous). */
  finished: 'allocations' | 'ceiling' | null;
  seeding: string;
  stop(): Promise<void>;
};

async function call(baseUrl: string, method: string, path: string, body: unknown, token: string): Promise<{ status: number; text: string }> {
  const response = await fetch(new URL(path, baseUrl), {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

async function inParallel<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

function lotsToSeed(sizes: Sizes): { productId: string; warehouseId: string; quantity: number }[] {
  const hot = hotProducts(sizes).map(({ productId, quantity }) => ({ productId, warehouseId: benchWarehouses[0], quantity }));
  const spread = Array.from({ length: sizes.spreadProducts }, (_, i) =>
    benchWarehouses.map((warehouseId) => ({ productId: spreadProductId(i), warehouseId, quantity: spreadLotStock })),
  ).flat();
  return [...hot, ...spread];
}

function productsToSeed(sizes: Sizes): string[] {
  return [...hotProducts(sizes).map((product) => product.productId), ...Array.from({ length: sizes.spreadProducts }, (_, i) => spreadProductId(i))];
}

/** Seeds through Stockroom's own API: catalogue by POST, stock by batched PUT /inventory/adjust when this build has it. */
async function seedThroughApi(handle: SystemHandle, sizes: Sizes): Promise<string> {
  const admin = tokens.admin();
  const ok = (result: { status: number; text: string }, what: string) => {
    if (result.status >= 300 && !result.text.includes('ALREADY_EXISTS')) throw new Error(`seeding ${what}: ${result.status} ${result.text}`);
  };
  for (const id of benchWarehouses) ok(await call(handle.baseUrl, 'POST', '/api/v1/warehouses', { id, code: id, name: `Benchmark ${id}` }, admin), id);
  await inParallel(productsToSeed(sizes), 32, async (id) =>
    ok(await call(handle.baseUrl, 'POST', '/api/v1/products', { id, sku: id, name: `Benchmark ${id}` }, admin), id),
  );
  const lots = lotsToSeed(sizes);
  if (!handle.endpoints.has('adjust')) {
    await receiveLots(handle.pool, lots, 'bench-admin');
    return 'catalogue through the API; lots by direct SQL through the lot store (this build has no PUT /inventory/adjust)';
  }
  const chunks: (typeof lots)[] = [];
  for (let start = 0; start < lots.length; start += 500) chunks.push(lots.slice(start, start + 500));
  await inParallel(chunks, 4, async (chunk) =>
    ok(
      await call(
        handle.baseUrl,
        'PUT',
        '/api/v1/inventory/adjust',
        { adjustments: chunk.map((lot) => ({ ...lot, type: 'RECEIPT', reason: 'benchmark seed' })) },
        admin,
      ),
      'lots',
    ),
  );
  return 'catalogue and lots through the API (PUT /inventory/adjust in batches of 500)';
}

/** Seeds a database directly (baseline): catalogue and lots through the lot store. */
async function seedDirect(pool: Pool, sizes: Sizes): Promise<string> {
  await insertWarehouses(pool, benchWarehouses);
  await insertProducts(pool, productsToSeed(sizes));
  await receiveLots(pool, lotsToSeed(sizes), 'bench-admin');
  return 'direct SQL through the lot store';
}

async function probe(baseUrl: string, method: string, path: string): Promise<boolean> {
  const result = await call(baseUrl, method, path, {}, tokens.admin());
  return result.status !== 404;
}

async function waitForConsumers(queue: QueueWatch, count: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const state = await queue.look();
    if (state && state.consumers >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`fewer than ${count} consumers on ${queue.queue} after ${timeoutMs} ms`);
}

function stopper(resources: { procs: Proc[]; pool: Pool; queue: QueueWatch | null; drops: Resource[]; keep: boolean }): () => Promise<void> {
  return async () => {
    // workers last would leave the api publishing into nothing; stop in reverse start order
    for (const proc of [...resources.procs].reverse()) await proc.stop();
    await resources.queue?.close();
    await resources.pool.end();
    if (resources.keep) {
      say(`  kept ${resources.drops.map((resource) => resource.name).join(', ')}`);
      return;
    }
    for (const resource of resources.drops) await resource.drop().catch((error: unknown) => say(`  could not drop ${resource.name}: ${String(error)}`));
  };
}

/** Stockroom itself: a fresh database and vhost, `src/main.ts --role api` and `--role worker` processes, seeded through its API. */
export async function startOurs(options: SystemOptions, sizes: Sizes): Promise<SystemHandle> {
  const database = await createDatabase(`stockroom_bench_${options.runId}`, migrationsOf(options.root));
  const vhost = await createVhost(`stockroom_bench_${options.runId}`);
  const port = await freePort();
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    LOG_LEVEL: options.logLevel,
    JWT_SECRET: benchJwtSecret,
    DATABASE_URL: database.url,
    AMQP_URL: vhost.url,
    HOST: '127.0.0.1',
    PORT: String(port),
    MIGRATE_ON_START: 'false',
    ...options.env,
  };
  const api = spawnTs('ours-api', 'src/main.ts', ['--role', 'api'], env, options.logDir, options.nodeArgs, options.root);
  const workers = Array.from({ length: options.workers }, (_, i) =>
    spawnTs(`ours-worker-${i + 1}`, 'src/main.ts', ['--role', 'worker'], env, options.logDir, options.nodeArgs, options.root),
  );
  const pool = createPool(database.url, 4, undefined, harnessApplicationName);
  // partitioned (ALLOCATION_PARTITIONS > 1), every worker consumes every partition's queue
  const partitions = allocationPartitions(
    env.ALLOCATION_QUEUE ?? 'stockroom.allocations',
    [],
    Number(env.ALLOCATION_PARTITIONS ?? 1),
    env.AMQP_CLUSTER === 'quorum' ? { deliveryLimit: Number(env.ALLOCATION_DELIVERY_LIMIT ?? 10) } : undefined,
  );
  const queue = await QueueWatch.open(vhost.url, partitions.flatMap(workQueues));
  const handle: SystemHandle = {
    system: 'ours',
    baseUrl: `http://127.0.0.1:${port}`,
    database,
    pool,
    roles: { api: [api], worker: workers },
    queue,
    endpoints: new Set(),
    finished: 'allocations',
    seeding: '',
    stop: stopper({ procs: [api, ...workers], pool, queue, drops: [database, vhost], keep: options.keep }),
  };
  try {
    await waitReady(`${handle.baseUrl}/health/ready`, api);
    if (await probe(handle.baseUrl, 'POST', '/api/v1/allocations')) handle.endpoints.add('allocations');
    if (await probe(handle.baseUrl, 'POST', '/api/v1/allocations/batch')) handle.endpoints.add('allocations-batch');
    if (await probe(handle.baseUrl, 'POST', '/api/v1/inventory/reserve')) handle.endpoints.add('reserve');
    if (await probe(handle.baseUrl, 'PUT', '/api/v1/inventory/adjust')) handle.endpoints.add('adjust');
    if (handle.endpoints.has('allocations')) await waitForConsumers(queue, workers.length);
    handle.seeding = await seedThroughApi(handle, sizes);
    if (options.staleStats) {
      // statistics that say every job table is empty, as a nightly ANALYZE or a fresh deployment may leave them
      await pool.query('analyze');
      handle.seeding += '; then ANALYZE with the job tables empty (--stale-stats)';
    }
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return handle;
}

/** The naive baseline: its own migrated database, seeded directly, one http server per core. */
export async function startBaseline(options: SystemOptions, sizes: Sizes): Promise<SystemHandle> {
  const database = await createDatabase(`stockroom_bench_${options.runId}_baseline`, migrationsOf());
  const port = await freePort();
  const env = { NODE_ENV: 'production', JWT_SECRET: benchJwtSecret, DATABASE_URL: database.url, PORT: String(port), MIGRATE_ON_START: 'false' };
  const server = spawnTs('baseline', 'bench/baseline.ts', [], env, options.logDir);
  const pool = createPool(database.url, 4, undefined, harnessApplicationName);
  const handle: SystemHandle = {
    system: 'baseline',
    baseUrl: `http://127.0.0.1:${port}`,
    database,
    pool,
    roles: { api: [server] },
    queue: null,
    endpoints: new Set(['allocations']),
    finished: null,
    seeding: '',
    stop: stopper({ procs: [server], pool, queue: null, drops: [database], keep: options.keep }),
  };
  try {
    await waitReady(`${handle.baseUrl}/health/ready`, server);
    handle.seeding = await seedDirect(pool, sizes);
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return handle;
}

/** The ceiling probe: an api and a worker process of bench/ceiling.ts on their own database and vhost. */
export async function startCeiling(options: SystemOptions): Promise<SystemHandle> {
  const database = await createDatabase(`stockroom_bench_${options.runId}_ceiling`, null);
  const vhost = await createVhost(`stockroom_bench_${options.runId}_ceiling`);
  const [apiPort, workerPort] = [await freePort(), await freePort()];
  const env = { NODE_ENV: 'production', JWT_SECRET: benchJwtSecret, DATABASE_URL: database.url, AMQP_URL: vhost.url };
  const api = spawnTs('ceiling-api', 'bench/ceiling.ts', ['--role', 'api'], { ...env, PORT: String(apiPort) }, options.logDir);
  const worker = spawnTs('ceiling-worker', 'bench/ceiling.ts', ['--role', 'worker'], { ...env, PORT: String(workerPort) }, options.logDir);
  const pool = createPool(database.url, 4, undefined, harnessApplicationName);
  const queue = await QueueWatch.open(vhost.url, 'bench.ceiling');
  const handle: SystemHandle = {
    system: 'ceiling',
    baseUrl: `http://127.0.0.1:${apiPort}`,
    database,
    pool,
    roles: { api: [api], worker: [worker] },
    queue,
    endpoints: new Set(['allocations']),
    finished: 'ceiling',
    seeding: 'nothing to seed',
    stop: stopper({ procs: [api, worker], pool, queue, drops: [database, vhost], keep: options.keep }),
  };
  try {
    await waitReady(`${handle.baseUrl}/health/ready`, api);
    await waitReady(`http://127.0.0.1:${workerPort}/health/ready`, worker);
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return handle;
}
