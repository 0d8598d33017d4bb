// first: tracing (when OTEL_EXPORTER_OTLP_ENDPOINT is set) patches fastify, pg and amqplib as they load
import './tracing/register';
import { startWorkers } from './runners';
import type { Runner } from './runners/runner';
import { connectAmqp } from './amqp/connection';
import { loadTokenKeys } from './auth/tokens';
import { ConfigError, loadConfig, sessionTimeoutsFor, type Config, type DatabaseRole } from './config';
import { createPool } from './db/client';
import { migrate } from './db/migrate';
import { createLogger } from './logger';
import { listenOnAdminPort } from './http/admin-port';
import { buildServer } from './http/server';
import { readinessProbe } from './operations/readiness';
import { startWorkerServer } from './operations/worker-server';
import { stopTracing } from './tracing/trace-context';

type Role = 'all' | 'api' | 'worker';

function parseRole(argv: readonly string[]): Role {
  const index = argv.indexOf('--role');
  const role = index === -1 ? 'all' : argv[index + 1];
  if (role === 'all' || role === 'api' || role === 'worker') return role;
  throw new ConfigError([`--role: expected api, worker or all, got ${role ?? 'nothing'}`]);
}

async function run(config: Config, role: Role): Promise<void> {
  const logger = createLogger(config).child({ role });
  // Key files are read before anything connects, so a bad one stops the start at once.
  const tokenKeys = role === 'worker' ? null : loadTokenKeys(config);
  if (config.MIGRATE_ON_START) await migrate(config.DATABASE_URL);
  // each role's sessions run with its own lock, statement and idle-in-transaction limits
  const poolFor = (of: DatabaseRole) =>
    createPool(config.DATABASE_URL, config.DATABASE_POOL_SIZE, logger, `stockroom-${of}-${process.pid}`, sessionTimeoutsFor(config, of));
  const apiPool = role === 'worker' ? null : poolFor('api');
  const workerPool = role === 'api' ? null : poolFor('worker');
  const amqp = await connectAmqp(config.AMQP_URL, logger, {
    connectionName: `stockroom-${role}-${process.pid}`,
    maxDelayMs: config.RECONNECT_MAX_DELAY_MS,
    heartbeatSeconds: config.AMQP_HEARTBEAT_SECONDS,
  });

  const app = apiPool && tokenKeys ? await buildServer({ config, pool: apiPool, logger, amqp, tokenKeys }) : null;
  const runners: Runner[] = workerPool ? await startWorkers({ config, pool: workerPool, logger, amqp }) : [];
  if (app) await app.listen({ host: config.HOST, port: config.PORT });
  // The admin port: the api's app serves /metrics and /docs there, a worker-only process /metrics and health.
  const apiAdminPort = app && config.ADMIN_PORT > 0 ? await listenOnAdminPort(app, config.ADMIN_HOST, config.ADMIN_PORT, config) : null;
  const workerAdminPort =
    !app && workerPool && config.ADMIN_PORT > 0
      ? await startWorkerServer(config.ADMIN_HOST, config.ADMIN_PORT, { logger, probe: readinessProbe({ pool: workerPool, amqp, logger }), timeouts: config })
      : null;

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight work');
    const deadline = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    deadline.unref();
    try {
      await apiAdminPort?.close();
      await app?.close();
      await Promise.all(runners.map((runner) => runner.stop()));
      await workerAdminPort?.close();
      await amqp.close();
      await Promise.all([apiPool?.end(), workerPool?.end()]);
      await stopTracing();
      logger.info('stopped');
    } catch (error) {
      logger.error({ err: error }, 'error while shutting down');
      process.exitCode = 1;
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

let config: Config;
let role: Role;
try {
  config = loadConfig();
  role = parseRole(process.argv);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}
run(config, role).catch((error: unknown) => {
  // A key file that cannot be used is configuration too: its message names the variable.
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`stockroom failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
