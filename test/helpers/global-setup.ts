import { execFileSync } from 'node:child_process';
import path from 'node:path';

function dockerAnswers(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Tests that start Stockroom's processes run the compiled code, as the image does: dist/ is built
 * first (incrementally, so it costs little when nothing changed).
 *
 * Tests use the Postgres and RabbitMQ the environment names (TEST_DATABASE_URL / DATABASE_URL,
 * TEST_AMQP_URL / AMQP_URL). When neither is named and a Docker engine answers, throwaway
 * containers are started instead; otherwise the local defaults on 127.0.0.1 are used.
 */
export default async function globalSetup(): Promise<void> {
  execFileSync('npm', ['run', '-s', 'build'], { cwd: path.resolve(__dirname, '../..'), stdio: 'inherit' });
  const named = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || process.env.TEST_AMQP_URL || process.env.AMQP_URL;
  if (named || !dockerAnswers()) return;
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const { RabbitMQContainer } = await import('@testcontainers/rabbitmq');
  const [postgres, rabbit] = await Promise.all([
    new PostgreSqlContainer('postgres:15').withUsername('postgres').withPassword('postgres').start(),
    new RabbitMQContainer('rabbitmq:3.10').start(),
  ]);
  process.env.TEST_DATABASE_URL = postgres.getConnectionUri();
  process.env.TEST_AMQP_URL = rabbit.getAmqpUrl();
  process.env.STOCKROOM_TEST_RABBITMQ_CONTAINER = rabbit.getId();
  (globalThis as { __stockroomContainers?: unknown[] }).__stockroomContainers = [postgres, rabbit];
}
