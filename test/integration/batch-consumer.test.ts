import amqplib, { type Channel } from 'amqplib';
import pino from 'pino';
import { connectAmqp, type AmqpClient } from '../../src/amqp/connection';
import { ackAll, consumeInBatches, type Delivery } from '../../src/amqp/consumer';
import { createTestVhost, type TestVhost } from '../helpers/amqp';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
let vhost: TestVhost;
let amqp: AmqpClient;

beforeAll(async () => {
  vhost = await createTestVhost('batch-consumer');
  amqp = await connectAmqp(vhost.url, logger, { connectionName: 'batch-consumer-test', maxDelayMs: 500 });
  await amqp.waitForConnect();
});
afterAll(async () => {
  await amqp.close();
  await vhost.drop();
});

async function publish(queue: string, count: number): Promise<void> {
  const connection = await amqplib.connect(vhost.url);
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(queue, { durable: false });
  for (let i = 0; i < count; i++) channel.sendToQueue(queue, Buffer.from(String(i)));
  await channel.waitForConfirms();
  await connection.close();
}

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('consumeInBatches', () => {
  it('runs one batch at a time when the prefetch holds two batches, so a backlog is served in a few large batches', async () => {
    const queue = 'backlog';
    await publish(queue, 500);
    const sizes: number[] = [];
    let running = 0;
    let mostAtOnce = 0;
    const consumer = await consumeInBatches(amqp, logger, { queues: [queue], prefetch: 200, batchSize: 100, batchWaitMs: 5 }, async (batch: Delivery[]) => {
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      sizes.push(batch.length);
      // a slow transaction: the next batch fills meanwhile
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (const delivery of batch) delivery.ack();
      running--;
    });
    await waitUntil(() => sizes.reduce((sum, size) => sum + size, 0) === 500);
    await consumer.stop();
    expect(mostAtOnce).toBe(1);
    // a batch may start before a whole batch arrived, but the backlog goes in a few large batches, not many small ones
    expect(sizes.length).toBeLessThanOrEqual(8);
  });

  it('runs batches side by side, at most prefetch / batchSize - 1 of them, when the prefetch holds more than two', async () => {
    const queue = 'wide';
    await publish(queue, 400);
    let served = 0;
    let running = 0;
    let mostAtOnce = 0;
    const consumer = await consumeInBatches(amqp, logger, { queues: [queue], prefetch: 400, batchSize: 100, batchWaitMs: 5 }, async (batch: Delivery[]) => {
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (const delivery of batch) delivery.ack();
      served += batch.length;
      running--;
    });
    await waitUntil(() => served === 400);
    await consumer.stop();
    expect(mostAtOnce).toBeGreaterThan(1);
    expect(mostAtOnce).toBeLessThanOrEqual(3);
  });

  it('acks a whole batch with one multiple-ack', async () => {
    const queue = 'acked-together';
    await publish(queue, 300);
    const spied: { acks?: jest.SpyInstance } = {};
    let served = 0;
    let batches = 0;
    try {
      const consumer = await consumeInBatches(amqp, logger, { queues: [queue], prefetch: 200, batchSize: 100, batchWaitMs: 5 }, (batch: Delivery[]) => {
        // counts the acks sent on the channel the deliveries came on
        spied.acks ??= jest.spyOn((batch[0] as Delivery & { channel: Channel }).channel, 'ack');
        batches++;
        ackAll(batch);
        served += batch.length;
        return Promise.resolve();
      });
      await waitUntil(() => served === 300);
      await consumer.stop();
      expect(spied.acks!.mock.calls.length).toBe(batches);
      expect(spied.acks!.mock.calls.every((call) => call[1] === true)).toBe(true);
    } finally {
      spied.acks?.mockRestore();
    }
    expect(await messagesIn(queue)).toBe(0);
  });

  it('never acks a delivery it was not given: with an earlier one unsettled, each is acked alone', async () => {
    const queue = 'one-held-back';
    await publish(queue, 300);
    let held: Delivery | null = null;
    let served = 0;
    const consumer = await consumeInBatches(amqp, logger, { queues: [queue], prefetch: 200, batchSize: 100, batchWaitMs: 5 }, (batch: Delivery[]) => {
      // the oldest delivery of the first batch stays unsettled, as a job still being retried would
      const rest = held === null ? batch.slice(1) : batch;
      held ??= batch[0]!;
      ackAll(rest);
      served += batch.length;
      return Promise.resolve();
    });
    await waitUntil(() => served === 300);
    await consumer.stop();
    // stopping closed the channel: the broker put back exactly the one delivery nobody acked
    expect(await messagesIn(queue)).toBe(1);
  });
});

async function messagesIn(queue: string): Promise<number> {
  const connection = await amqplib.connect(vhost.url);
  try {
    const channel = await connection.createChannel();
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await connection.close();
  }
}
