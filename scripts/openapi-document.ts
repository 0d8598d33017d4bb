import pino from 'pino';
import { Pool } from 'pg';
import { loadConfig } from '../src/config';
import { buildServer } from '../src/http/server';

/** An OpenAPI document as JSON. */
export type OpenApiDocument = Record<string, unknown> & { openapi: string; paths: Record<string, unknown> };

/**
 * The OpenAPI document the api serves at /docs/json, built without connecting to anything: the
 * pool is never used, no broker is given and no token is checked.
 */
export async function openApiDocument(): Promise<OpenApiDocument> {
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', JWT_SECRET: 'the-document-is-built-without-checking-any-token' });
  const pool = new Pool({ connectionString: config.DATABASE_URL, max: 1 });
  const app = await buildServer({
    config,
    pool,
    logger: pino({ level: 'silent' }),
    amqp: null,
    tokenKeys: { secret: config.JWT_SECRET!, publicKeys: [], development: null },
  });
  try {
    await app.ready();
    return app.swagger() as OpenApiDocument;
  } finally {
    await app.close();
    await pool.end();
  }
}
