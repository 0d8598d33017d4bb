import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The Postgres server tests use: TEST_DATABASE_URL, DATABASE_URL, or the local default. */
export function baseDatabaseUrl(): string {
  return process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
}

/** The RabbitMQ broker tests use: TEST_AMQP_URL, AMQP_URL, or the local default. */
export function baseAmqpUrl(): string {
  return process.env.TEST_AMQP_URL || process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672';
}

/** A name unique to this test file and run, safe as a database or vhost name. */
export function uniqueName(label: string): string {
  const slug = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 30);
  return `sr_${slug}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Runs rabbitmqctl against the test broker: locally, or inside the broker's container when the
 * tests started one (global-setup records its id).
 */
export async function rabbitmqctl(args: readonly string[]): Promise<string> {
  const container = process.env.STOCKROOM_TEST_RABBITMQ_CONTAINER;
  const { stdout } = container ? await run('docker', ['exec', container, 'rabbitmqctl', ...args]) : await run('rabbitmqctl', [...args]);
  return stdout;
}
