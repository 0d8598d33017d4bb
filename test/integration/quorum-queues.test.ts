import amqplib, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import pino from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { connectAmqp, type AmqpClient } from '../../src/amqp/connection';
import { consumeInBatches, type Delivery } from '../../src/amqp/consumer';
import { createPublisher } from '../../src/amqp/publisher';
import { createSettler } from '../../src/amqp/settle';
import { ATTEMPTS_HEADER, allocationPartitions, allocationQueuesOf, workQueueFor, workQueues, type AllocationTopology } from '../../src/amqp/topology';
import { queryRows } from '../../src/db/client';
import { partitionOf } from '../../src/domain/partition';
import { priorities, type Priority } from '../../src/domain/priority';
import { startAllocationWorker } from '../../src/runners/allocation-worker';
import { startOrderEventsConsumer } from '../../src/runners/order-events-consumer';
import type { Runner } from '../../src/runners/runner';
import { startTestApp, type TestApp } from '../helpers/app';
import { admin, enqueue, waitFor, waitForJob } from '../helpers/allocations';
import { rabbitmqctl } from '../helpers/services';
import { receiveLots, seedCatalogue } from '../helpers/stock';

// AMQP_CLUSTER=quorum on the shared single node (quorum queues work on one node): the queues the
// processes declare, priority order without broker priorities, retries and the delivery limit.

const PARTITIONS = 2;
const DELIVERY_LIMIT = 2;
let t: TestApp;
let topologies: AllocationTopology[];
let connection: ChannelModel;
let channel: ConfirmChannel;
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const clients: AmqpClient[] = [];

beforeAll(async () => {
  t = await startTestApp('quorum', {
    broker: true,
    env: {
      AMQP_CLUSTER: 'quorum',
      ALLOCATION_PARTITIONS: String(PARTITIONS),
      ALLOCATION_DELIVERY_LIMIT: String(DELIVERY_LIMIT),
      JOB_RETRY_DELAYS_MS: '50,100',
      WORKER_BATCH_SIZE: '5',
      WORKER_BATCH_WAIT_MS: '20',
    },
  });
  topologies = allocationPartitions(t.config.ALLOCATION_QUEUE, t.config.JOB_RETRY_DELAYS_MS, PARTITIONS, allocationQueuesOf(t.config).quorum);
  connection = await amqplib.connect(t.vhost!.url);
  channel = await connection.createConfirmChannel();
  await seedCatalogue(t.db.pool, { warehouses: [{ id: 'wh-a' }], products: ['order-p', 'limit-p'] });
  await receiveLots(t.db.pool, [
    { productId: 'order-p', warehouseId: 'wh-a', quantity: 1000 },
    { productId: 'limit-p', warehouseId: 'wh-a', quantity: 10 },
  ]);
});
afterAll(async () => {
  await connection.close();
  for (const client of clients) await client.close();
  await t.close();
});

async function connect(name: string): Promise<AmqpClient> {
  const amqp = await connectAmqp(t.vhost!.url, logger, { connectionName: name, maxDelayMs: 500 });
  clients.push(amqp);
  await amqp.waitForConnect();
  return amqp;
}

async function startWorker(): Promise<Runner> {
  return startAllocationWorker({ config: t.config, pool: t.db.pool, logger, amqp: await connect(`worker-${clients.length}`) });
}

type QueueRow = { name: string; type: string; arguments: Record<string, unknown> };

/** The vhost's queues by name, with their type and arguments (rabbitmqctl lists each argument as [name, type, value]). */
async function queuesOfVhost(): Promise<Map<string, QueueRow>> {
  const rows = JSON.parse(await rabbitmqctl(['list_queues', '-p', t.vhost!.name, 'name', 'type', 'arguments', '--formatter', 'json'])) as {
    name: string;
    type: string;
    arguments: [string, string, unknown][];
  }[];
  return new Map(rows.map((row) => [row.name, { ...row, arguments: Object.fromEntries(row.arguments.map(([name, , value]) => [name, value])) }]));
}

const order = (productId: string, priority: Priority) => ({
  items: [{ productId, quantity: 1 }],
  referenceId: `ord-${uuidv7()}`,
  referenceType: 'order',
  priority,
});

describe('AMQP_CLUSTER=quorum', () => {
  it('declares quorum queues only: one per priority level and partition, with the delivery limit, and quorum retry and dead-letter queues', async () => {
    // the api declared them when it started
    const queues = await queuesOfVhost();
    const base = t.config.ALLOCATION_QUEUE;
    const expected = [
      ...[0, 1].flatMap((partition) => ['critical', 'high', 'medium', 'low'].map((priority) => `${base}.quorum.p${partition}.${priority}`)),
      `${base}.quorum.retry.50ms`,
      `${base}.quorum.retry.100ms`,
      `${base}.quorum.dead`,
    ];
    expect([...queues.keys()].filter((name) => name.startsWith(base)).sort()).toEqual([...expected].sort());
    for (const name of expected) expect(queues.get(name)!.type).toBe('quorum');
    expect(queues.get(`${base}.quorum.p1.low`)!.arguments).toMatchObject({
      'x-delivery-limit': DELIVERY_LIMIT,
      'x-single-active-consumer': true,
      'x-dead-letter-routing-key': `${base}.quorum.dead`,
      'x-dead-letter-strategy': 'at-least-once',
    });
    expect(queues.get(`${base}.quorum.retry.50ms`)!.arguments).toMatchObject({ 'x-message-ttl': 50, 'x-dead-letter-strategy': 'at-least-once' });
  });

  it("declares an event consumer's queue, retry queues and dead-letter queue as quorum queues under <queue>.quorum", async () => {
    const consumer = await startOrderEventsConsumer({ config: t.config, pool: t.db.pool, logger, amqp: await connect('order-events') });
    try {
      const queues = await queuesOfVhost();
      const queue = `${t.config.CONSUMER_QUEUE_PREFIX}.order-events.quorum`;
      const names = [queue, `${queue}.retry.50ms`, `${queue}.retry.100ms`, `${queue}.dead`];
      expect(names.map((name) => queues.get(name)?.type)).toEqual(['quorum', 'quorum', 'quorum', 'quorum']);
      expect(queues.get(queue)!.arguments).toMatchObject({ 'x-delivery-limit': DELIVERY_LIMIT, 'x-dead-letter-routing-key': `${queue}.dead` });
    } finally {
      await consumer.stop();
    }
  });

  it('publishes each job to its priority level and serves a partition highest priority first', async () => {
    const topology = topologies[partitionOf(['order-p'], PARTITIONS)]!;
    // five jobs of each priority, lowest first, waiting before any worker runs
    const ids = new Map<string, Priority>();
    for (const priority of priorities) {
      for (let index = 0; index < 5; index++) ids.set((await enqueue(t.app, order('order-p', priority))).json().allocationId as string, priority);
    }
    for (const priority of priorities) expect((await channel.checkQueue(workQueueFor(topology, priority))).messageCount).toBe(5);

    const worker = await startWorker();
    try {
      for (const id of ids.keys()) expect((await waitForJob(t.app, id)).status).toBe('succeeded');
    } finally {
      await worker.stop();
    }
    const started = await queryRows<{ id: string; startedAt: Date }>(
      t.db.pool,
      `select id, started_at as "startedAt" from allocation_requests where id = any($1::uuid[])`,
      [[...ids.keys()]],
    );
    const levelOf = (id: string) => priorities.indexOf(ids.get(id)!);
    for (const later of started) {
      for (const earlier of started) {
        // a job of a higher priority never started after one of a lower priority
        if (levelOf(earlier.id) > levelOf(later.id)) expect(earlier.startedAt.getTime()).toBeLessThanOrEqual(later.startedAt.getTime());
      }
    }
  });

  it('sends a failed message through the shared retry queue back to the queue of its own level', async () => {
    const topology = topologies[1]!;
    const amqp = await connect('retry-settler');
    const publisher = await createPublisher(amqp, logger);
    await waitFor('the publisher', () => publisher.isReady() || undefined);
    const settler = createSettler({
      topology,
      publisher,
      maxAttempts: 3,
      retryDelaysMs: t.config.JOB_RETRY_DELAYS_MS,
      confirmTimeoutMs: 5000,
      log: logger,
      keep: () => Promise.resolve(),
    });
    const received: Delivery[] = [];
    const consumer = await consumeInBatches(amqp, logger, { queues: workQueues(topology), prefetch: 10, batchSize: 1, batchWaitMs: 0 }, async (batch) => {
      const settlement = settler.batch();
      for (const delivery of batch) {
        received.push(delivery);
        if (received.length === 1) settlement.fail(delivery, { error: 'try later', retryable: true, payload: {} });
        else settlement.ack(delivery);
      }
      await settlement.settle();
    });
    try {
      const level = workQueueFor(topology, 'high');
      channel.sendToQueue(level, Buffer.from('{}'), { persistent: true, messageId: 'retried' });
      await channel.waitForConfirms();
      await waitFor('the message back from its retry queue', () => received.length === 2 || undefined);
      const back = received[1]!;
      expect(back.queue).toBe(level);
      expect(back.message.properties.headers).toMatchObject({ [ATTEMPTS_HEADER]: 1 });
      expect(back.message.properties.headers!['x-death']).toEqual([expect.objectContaining({ queue: topology.retries[0]!.queue, reason: 'expired' })]);
    } finally {
      await consumer.stop();
      await publisher.close();
    }
  });

  it('dead-letters a job at its last delivery (delivery_limit) instead of serving it, and marks it dead_lettered', async () => {
    const job = (await enqueue(t.app, order('limit-p', 'medium'))).json();
    const level = workQueueFor(topologies[partitionOf(['limit-p'], PARTITIONS)]!, 'medium');
    // its consumer dies holding it, DELIVERY_LIMIT times: the next delivery is its last
    for (let death = 0; death < DELIVERY_LIMIT; death++) {
      const doomed = await connection.createChannel();
      await new Promise<void>((resolve) => void doomed.consume(level, (message) => message && resolve()));
      await doomed.close();
    }
    const worker = await startWorker();
    try {
      expect((await waitForJob(t.app, job.allocationId)).status).toBe('dead_lettered');
    } finally {
      await worker.stop();
    }
    const letters = await t.app.inject({ method: 'GET', url: `/api/v1/admin/dead-letters?queue=${encodeURIComponent(level)}`, headers: admin });
    expect(letters.json().items).toEqual([expect.objectContaining({ reason: 'delivery_limit', allocationId: job.allocationId, queue: level })]);
    // a message naming no known job, at its last delivery: kept without an allocation id
    const orphanId = uuidv7();
    channel.sendToQueue(level, Buffer.from(JSON.stringify({ allocationId: orphanId })), { persistent: true, messageId: orphanId });
    await channel.waitForConfirms();
    for (let death = 0; death < DELIVERY_LIMIT; death++) {
      const doomed = await connection.createChannel();
      await new Promise<void>((resolve) => void doomed.consume(level, (message) => message && resolve()));
      await doomed.close();
    }
    const again = await startWorker();
    try {
      const orphan = await waitFor('the orphan dead letter', async () => {
        const reply = await t.app.inject({ method: 'GET', url: `/api/v1/admin/dead-letters?queue=${encodeURIComponent(level)}`, headers: admin });
        return (reply.json().items as { payload: { allocationId: string } }[]).find((item) => item.payload.allocationId === orphanId);
      });
      expect(orphan).toMatchObject({ reason: 'delivery_limit', allocationId: null });
    } finally {
      await again.stop();
    }
    const [stock] = await queryRows<{ reserved: number }>(
      t.db.pool,
      `select sum(reserved_quantity)::int as reserved from inventory_items where product_id = 'limit-p'`,
    );
    expect(stock!.reserved).toBe(0);
  });
});
