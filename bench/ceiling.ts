/**
 * The ceiling probe: the same pipeline as Stockroom with no business logic, to show what this
 * machine's HTTP, RabbitMQ and Postgres allow at most. `--role api`: HTTP POST → persistent publish
 * on a confirm channel → 202 once the broker confirmed. `--role worker`: consume (prefetch 500),
 * gather up to 100 messages or 5 ms, write them with one INSERT, ack them with one multiple-ack.
 *
 * Runs as `node --import tsx bench/ceiling.ts --role api|worker` with DATABASE_URL, AMQP_URL, PORT, JWT_SECRET.
 */
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import Fastify from 'fastify';
import pino from 'pino';
import { connectAmqp } from '../src/amqp/connection';
import { createTokenVerifier, loadTokenKeys } from '../src/auth/tokens';
import { loadConfig } from '../src/config';
import { createPool } from '../src/db/client';
import { createCeilingTable, insertCeilingJobs, newJobId } from './bench-store';

const queue = 'bench.ceiling';
const batchSize = 100;
const batchWaitMs = 5;

async function main(): Promise<void> {
  const role = process.argv[process.argv.indexOf('--role') + 1];
  const config = loadConfig();
  const logger = pino({ level: 'warn' });
  const pool = createPool(config.DATABASE_URL, 4, logger, `stockroom-bench-ceiling-${role}`);
  const amqp = await connectAmqp(config.AMQP_URL, logger, { connectionName: `bench-ceiling-${role}`, maxDelayMs: 1000 });
  await amqp.waitForConnect();
  let close: () => Promise<void>;

  if (role === 'api') {
    let channel: ConfirmChannel | null = null;
    await amqp.onConnect(async (model) => {
      channel = await model.createConfirmChannel();
      await channel.assertQueue(queue, { durable: true });
    });
    const verify = createTokenVerifier(loadTokenKeys(config), config);
    const app = Fastify({ logger: false });
    app.get('/health/ready', () => ({ status: 'up' }));
    app.post<{ Body: Record<string, unknown> }>('/api/v1/allocations', async (request, reply) => {
      const token = request.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
      if (!token) return reply.status(401).send({ error: { code: 'UNAUTHORIZED', message: 'no token' } });
      verify(token);
      const id = newJobId();
      const message = Buffer.from(JSON.stringify({ id, acceptedAt: Date.now(), body: request.body }));
      const target = channel;
      if (!target) return reply.status(503).send({ error: { code: 'DEPENDENCY_UNAVAILABLE', message: 'broker down' } });
      await new Promise<void>((resolve, reject) =>
        target.publish('', queue, message, { persistent: true, contentType: 'application/json' }, (error: unknown) =>
          error ? reject(new Error('RabbitMQ did not accept the message', { cause: error })) : resolve(),
        ),
      );
      return reply.status(202).send({ allocationId: id, status: 'queued' });
    });
    await app.listen({ host: '127.0.0.1', port: config.PORT });
    close = async () => {
      await app.close();
    };
  } else {
    await createCeilingTable(pool);
    let buffer: ConsumeMessage[] = [];
    let timer: NodeJS.Timeout | null = null;
    let flushing = Promise.resolve();
    const flush = (channel: Channel) => {
      if (timer) clearTimeout(timer);
      timer = null;
      const batch = buffer;
      buffer = [];
      if (batch.length === 0) return;
      flushing = flushing
        .then(async () => {
          const jobs = batch.map((message) => JSON.parse(message.content.toString('utf8')) as { id: string; acceptedAt: number; body: unknown });
          await insertCeilingJobs(pool, jobs);
          channel.ack(batch[batch.length - 1]!, true);
        })
        .catch(() => channel.nack(batch[batch.length - 1]!, true, true));
    };
    await amqp.onConnect(async (model) => {
      const channel = await model.createChannel();
      await channel.assertQueue(queue, { durable: true });
      await channel.prefetch(500);
      await channel.consume(queue, (message) => {
        if (!message) return;
        buffer.push(message);
        if (buffer.length >= batchSize) flush(channel);
        else timer ??= setTimeout(() => flush(channel), batchWaitMs);
      });
    });
    // The worker has no HTTP API; this port only tells run.ts that it is consuming.
    const health = Fastify({ logger: false });
    health.get('/health/ready', () => ({ status: 'up' }));
    await health.listen({ host: '127.0.0.1', port: config.PORT });
    close = async () => {
      await health.close();
      await flushing;
    };
  }

  process.once('SIGTERM', () => {
    void close()
      .then(() => amqp.close())
      .then(() => pool.end())
      .finally(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`ceiling probe failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
