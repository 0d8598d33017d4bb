import { Writable } from 'node:stream';
import amqplib, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import pino from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { connectAmqp, type AmqpClient } from '../../src/amqp/connection';
import { BODY_BASE64_HEADER } from '../../src/amqp/settle';
import { allocationTopology } from '../../src/amqp/topology';
import { startAllocationWorker } from '../../src/runners/allocation-worker';
import { startOrderEventsConsumer } from '../../src/runners/order-events-consumer';
import type { Runner } from '../../src/runners/runner';
import { startTestApp, type TestApp } from '../helpers/app';
import { admin, enqueue, waitFor, waitForJob } from '../helpers/allocations';
import { receiveLots, seedCatalogue, totalsOf } from '../helpers/stock';

// Messages whose text Postgres cannot store (NUL, lone surrogates) or that are no JSON at all: each
// is dead-lettered once, escaped so its row can be written, and the messages beside it are served.

let t: TestApp;
let amqp: AmqpClient;
let connection: ChannelModel;
let channel: ConfirmChannel;
/** Every line the runners logged at warn or above. */
const warnings: Record<string, unknown>[] = [];
const logger = pino(
  { level: 'warn' },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      warnings.push(JSON.parse(chunk.toString('utf8')));
      done();
    },
  }),
);

beforeAll(async () => {
  t = await startTestApp('poison', {
    broker: true,
    env: { JOB_MAX_ATTEMPTS: '3', JOB_RETRY_DELAYS_MS: '50,100', WORKER_BATCH_SIZE: '20', WORKER_BATCH_WAIT_MS: '200' },
  });
  amqp = await connectAmqp(t.vhost!.url, logger, { connectionName: 'poison-runners', maxDelayMs: 500 });
  await amqp.waitForConnect();
  connection = await amqplib.connect(t.vhost!.url);
  channel = await connection.createConfirmChannel();
  await seedCatalogue(t.db.pool, { warehouses: [{ id: 'wh-a' }], products: ['poison-p', 'order-p'] });
  await receiveLots(t.db.pool, [
    { productId: 'poison-p', warehouseId: 'wh-a', quantity: 10 },
    { productId: 'order-p', warehouseId: 'wh-a', quantity: 10 },
  ]);
});
afterAll(async () => {
  await connection.close();
  await amqp.close();
  await t.close();
});

type Letter = { id: string; reason: string; attempts: number; payload: any; headers: Record<string, unknown>; lastError: string; queue: string };

/** The open dead letters of a queue, as GET /admin/dead-letters lists them. */
async function lettersOf(queue: string): Promise<Letter[]> {
  const reply = await t.app.inject({ method: 'GET', url: `/api/v1/admin/dead-letters?queue=${encodeURIComponent(queue)}&limit=100`, headers: admin });
  expect(reply.statusCode).toBe(200);
  return reply.json().items;
}

/** How many messages wait in a queue and its retry queues. */
async function waiting(queue: string, retryDelaysMs: readonly number[]): Promise<number> {
  const topology = allocationTopology(queue, retryDelaysMs);
  const counts = await Promise.all(
    [topology.work, ...topology.retries.map((retry) => retry.queue)].map(async (name) => (await channel.checkQueue(name)).messageCount),
  );
  return counts.reduce((sum, count) => sum + count, 0);
}

function sendTo(queue: string, body: string | Buffer): void {
  channel.sendToQueue(queue, typeof body === 'string' ? Buffer.from(body) : body, { persistent: true, messageId: uuidv7() });
}

const bytesOf = (letter: Letter) => Buffer.from(String(letter.headers[BODY_BASE64_HEADER]), 'base64');

describe('poison allocation messages', () => {
  it('are dead-lettered at once with their text escaped, and the job and the dead letter in their batch are still served', async () => {
    const queue = t.config.ALLOCATION_QUEUE;
    // a job queued by the API, then poison beside it in the same queue, before any worker runs
    const accepted = await enqueue(t.app, { items: [{ productId: 'poison-p', quantity: 2 }], referenceId: 'ord-beside-poison', referenceType: 'order' });
    expect(accepted.statusCode).toBe(202);
    const orphanId = uuidv7();
    const nulBody = Buffer.from('{"allocationId":"\\u0000nul"}');
    const nulBytes = Buffer.from('{"allocationId": "\u0000 not json');
    const surrogateBody = Buffer.from('{"allocationId":"\\ud800"}');
    sendTo(queue, nulBody);
    sendTo(queue, nulBytes);
    sendTo(queue, surrogateBody);
    sendTo(queue, JSON.stringify({ allocationId: orphanId }));
    await channel.waitForConfirms();

    const worker: Runner = await startAllocationWorker({ config: t.config, pool: t.db.pool, logger, amqp });
    try {
      expect((await waitForJob(t.app, accepted.json().allocationId)).status).toBe('succeeded');
      const letters = await waitFor('four dead letters', async () => {
        const found = await lettersOf(queue);
        return found.length === 4 ? found : undefined;
      });
      const byReason = (reason: string) => letters.filter((letter) => letter.reason === reason);

      // JSON naming NUL and a lone surrogate: the schema refuses them; they are kept escaped, with their exact bytes
      const invalid = byReason('invalid_message');
      expect(invalid.map((letter) => letter.payload.allocationId).sort()).toEqual(['\\u0000nul', '\\ud800']);
      for (const letter of invalid) {
        expect(letter).toMatchObject({ attempts: 1, queue, lastError: expect.stringContaining('allocationId') });
        expect([nulBody, surrogateBody].some((body) => body.equals(bytesOf(letter)))).toBe(true);
      }
      // a raw NUL byte in a body that is no JSON: kept as escaped text and as bytes
      const [unparseable] = byReason('unparseable');
      expect(unparseable).toMatchObject({ attempts: 1, payload: { raw: '{"allocationId": "\\u0000 not json' } });
      expect(bytesOf(unparseable!).equals(nulBytes)).toBe(true);
      // the ordinary dead letter of the same batch is not held back by the poison, and carries no copy of its bytes
      const [orphan] = byReason('unknown_allocation');
      expect(orphan).toMatchObject({ attempts: 1, payload: { allocationId: orphanId } });
      expect(orphan!.headers[BODY_BASE64_HEADER]).toBeUndefined();

      // nothing circulates through the retry queues, and the job took its stock once
      await new Promise((resolve) => setTimeout(resolve, 300)); // longer than every retry delay
      expect(await waiting(queue, t.config.JOB_RETRY_DELAYS_MS)).toBe(0);
      expect(await lettersOf(queue)).toHaveLength(4);
      expect(await totalsOf(t.db.pool, 'poison-p')).toEqual({ quantity: 10, reserved: 2, allocated: 0 });
      const logged = warnings.filter((line) => line.msg === 'message dead-lettered' && line.queue === queue);
      expect(logged.map((line) => line.reason).sort()).toEqual(['invalid_message', 'invalid_message', 'unknown_allocation', 'unparseable']);
      expect(logged.every((line) => line.level === 40)).toBe(true);
      // each line names the message, and the job it names when it is a known one (none of these is)
      expect(logged.every((line) => typeof line.messageId === 'string' && line.allocationId === null)).toBe(true);
    } finally {
      await worker.stop();
    }
  });

  it('a replay sends the exact bytes received, not the escaped text', async () => {
    const queue = t.config.ALLOCATION_QUEUE;
    const [letter] = (await lettersOf(queue)).filter((item) => item.reason === 'unparseable');
    const replay = await t.app.inject({ method: 'POST', url: `/api/v1/admin/dead-letters/${letter!.id}/replay`, headers: admin });
    expect(replay.statusCode).toBe(200);
    const message = await waitFor('the replayed message', async () => (await channel.get(queue, { noAck: true })) || undefined);
    expect(message.content.equals(bytesOf(letter!))).toBe(true);
  });
});

describe('poison order events', () => {
  it('an event with a lone surrogate or a NUL, or no JSON, is dead-lettered at once and the events beside it are applied', async () => {
    // this file publishes as the broker's own user, allowed here as an order publisher
    const publisher = decodeURIComponent(new URL(t.vhost!.url).username) || 'guest';
    const config = { ...t.config, ORDER_EVENT_PUBLISHERS: new Map([[publisher, 'tenant-orders']]) };
    const queue = `${config.CONSUMER_QUEUE_PREFIX}.order-events`;
    const consumer = await startOrderEventsConsumer({ config, pool: t.db.pool, logger, amqp });
    try {
      const event = (orderId: string) => ({
        eventId: uuidv7(),
        type: 'OrderCreated',
        orderId,
        customerId: 'cust-1',
        items: [{ productId: 'order-p', quantity: 1, warehouseId: 'wh-a' }],
      });
      const publish = (body: string | Buffer) =>
        channel.publish(config.ORDERS_EXCHANGE, 'order.created', typeof body === 'string' ? Buffer.from(body) : body, {
          persistent: true,
          contentType: 'application/json',
          userId: publisher,
        });
      const surrogate = JSON.stringify(event('ord-surrogate')).replace('ord-surrogate', 'ord-\\udc00');
      const nulCustomer = JSON.stringify(event('ord-nul')).replace('cust-1', 'cust\\u0000');
      // a surrogate half encoded on its own (CESU-8), which is not UTF-8, after a NUL, in a body that is no JSON
      const notJson = Buffer.concat([Buffer.from('{"type":"OrderCreated", \u0000'), Buffer.from([0xed, 0xa0, 0x80])]);
      publish(JSON.stringify(event('ord-before')));
      publish(surrogate);
      publish(nulCustomer);
      publish(notJson);
      publish(JSON.stringify(event('ord-after')));
      await channel.waitForConfirms();

      const letters = await waitFor('three dead letters', async () => {
        const found = await lettersOf(queue);
        return found.length === 3 ? found : undefined;
      });
      // events of different orders may be applied by different batches, in either order: wait for both
      await waitFor('the events before and behind the poison', async () =>
        (await t.db.pool.query(`select 1 from reservations where order_id in ('ord-before', 'ord-after')`)).rowCount === 2 ? true : undefined,
      );
      const orders = await t.db.pool.query(
        `select order_id as "orderId", status from reservations where order_id like 'ord-%' and order_id not like 'ord-beside%' order by order_id`,
      );
      expect(orders.rows).toEqual([
        { orderId: 'ord-after', status: 'RESERVED' },
        { orderId: 'ord-before', status: 'RESERVED' },
      ]);

      const byOrder = (orderId: string) => letters.find((letter) => letter.payload?.orderId === orderId);
      expect(byOrder('ord-\\udc00')).toMatchObject({ reason: 'invalid_event', attempts: 1, lastError: expect.stringContaining('orderId') });
      expect(bytesOf(byOrder('ord-\\udc00')!).toString('utf8')).toBe(surrogate);
      expect(byOrder('ord-nul')).toMatchObject({ reason: 'invalid_event', attempts: 1, payload: { customerId: 'cust\\u0000' } });
      const unparseable = letters.find((letter) => letter.reason === 'unparseable');
      // its text is escaped (the surrogate's bytes read as U+FFFD), its bytes kept as received
      expect(unparseable).toMatchObject({ attempts: 1, payload: { raw: '{"type":"OrderCreated", \\u0000\ufffd\ufffd\ufffd' } });
      expect(bytesOf(unparseable!).equals(notJson)).toBe(true);

      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await waiting(queue, config.JOB_RETRY_DELAYS_MS)).toBe(0);
      expect(await lettersOf(queue)).toHaveLength(3);
    } finally {
      await consumer.stop();
    }
  });
});
