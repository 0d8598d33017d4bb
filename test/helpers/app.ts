import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import type { Logger } from '../../src/logger';
import { connectAmqp, type AmqpClient } from '../../src/amqp/connection';
import { loadTokenKeys } from '../../src/auth/tokens';
import { loadConfig, type Config } from '../../src/config';
import { listenOnAdminPort, type AdminPort } from '../../src/http/admin-port';
import { buildServer } from '../../src/http/server';
import { createTestVhost, type TestVhost } from './amqp';
import { createTestDatabase, type TestDatabase } from './database';
import { testJwtSecret } from './tokens';

export type TestApp = {
  app: FastifyInstance;
  db: TestDatabase;
  vhost: TestVhost | null;
  amqp: AmqpClient | null;
  config: Config;
  /** Calls the app on its admin port (listening on 127.0.0.1 from the first call on), where /metrics and /docs are served; the answer is read whole. */
  admin(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
};

/**
 * The HTTP app on a database (and, with `broker: true`, a vhost) of the test file's own, called
 * in-process with app.inject. Extra environment settings go in `env`; `logger` replaces the silent one.
 */
export async function startTestApp(label: string, options: { broker?: boolean; env?: Record<string, string>; logger?: Logger } = {}): Promise<TestApp> {
  const db = await createTestDatabase(label);
  const vhost = options.broker ? await createTestVhost(label) : null;
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: db.url,
    JWT_SECRET: testJwtSecret,
    // Suites send hundreds of refused calls from one address; the limits have tests of their own.
    RATE_LIMIT_ANONYMOUS_MAX: '0',
    ...(vhost ? { AMQP_URL: vhost.url } : {}),
    ...options.env,
  });
  const logger = options.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const amqp = vhost ? await connectAmqp(vhost.url, logger, { connectionName: `test-${label}`, maxDelayMs: 1000 }) : null;
  await amqp?.waitForConnect();
  const app = await buildServer({ config, pool: db.pool, logger, amqp, tokenKeys: loadTokenKeys(config) });
  await app.ready();
  let adminPort: Promise<AdminPort | null> | undefined;
  return {
    app,
    db,
    vhost,
    amqp,
    config,
    async admin(path, init) {
      adminPort ??= listenOnAdminPort(app, '127.0.0.1', 0, config);
      const listening = await adminPort;
      if (!listening) throw new Error('the admin port did not open');
      // Read whole here: an answer left unread holds its connection open, and close() would wait for it.
      const response = await fetch(`http://127.0.0.1:${listening.port}${path}`, init);
      const body = await response.arrayBuffer();
      return new Response(body.byteLength > 0 ? body : null, { status: response.status, statusText: response.statusText, headers: response.headers });
    },
    async close() {
      await (await adminPort)?.close();
      await app.close();
      await amqp?.close();
      await db.drop();
      await vhost?.drop();
    },
  };
}
