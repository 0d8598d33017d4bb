import { randomBytes } from 'node:crypto';
import amqplib, { type Channel, type ChannelModel } from 'amqplib';
import pino from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { connectAmqp, type AmqpClient } from '../../src/amqp/connection';
import { REASON_HEADER } from '../../src/amqp/settle';
import { signToken } from '../../src/auth/tokens';
import type { Config } from '../../src/config';
import { startCatalogEventsConsumer } from '../../src/runners/catalog-events-consumer';
import { startOrderEventsConsumer } from '../../src/runners/order-events-consumer';
import type { Runner } from '../../src/runners/runner';
import { startTestApp, type TestApp } from '../helpers/app';
import { eventually } from '../helpers/event-tap';
import { admin, receive, seedCatalogue, stockSnapshot } from '../helpers/inventory';
import { rabbitmqctl, uniqueName } from '../helpers/services';
import { testJwtSecret } from '../helpers/tokens';

/**
 * Events are believed only from configured publishers, as RabbitMQ vouches for them (`user_id`).
 * Each publisher here is a RabbitMQ user of this file's own, made with rabbitmqctl and allowed to
 * write to its exchange only: two order services bound to tenant-a and tenant-b, a catalogue
 * service, and an intruder that may write to the orders exchange but is no configured publisher.
 */

let t: TestApp;
let config: Config;
let amqp: AmqpClient;
let runners: Runner[];
const users = { ordersA: uniqueName('orders_a'), ordersB: uniqueName('orders_b'), catalog: uniqueName('catalog'), intruder: uniqueName('intruder') };
const password = randomBytes(12).toString('hex');
const connections: ChannelModel[] = [];
let broker: Channel;

const escape = (name: string) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A connection to this file's vhost as `user` (the broker's own user when none is named). */
async function connectAs(user?: string): Promise<ChannelModel> {
  const url = new URL(t.vhost!.url);
  if (user !== undefined) {
    url.username = user;
    url.password = password;
  }
  const connection = await amqplib.connect(url.toString());
  connections.push(connection);
  return connection;
}

const channels: Partial<Record<keyof typeof users, Channel>> = {};

function publish(channel: Channel, exchange: string, routingKey: string, body: object, userId?: string): void {
  channel.publish(exchange, routingKey, Buffer.from(JSON.stringify(body)), {
    persistent: true,
    contentType: 'application/json',
    ...(userId === undefined ? {} : { userId }),
  });
}

/** Publishes an order event as one of the publishers, with its own user as user_id (what an honest service does). */
function publishAs(who: 'ordersA' | 'ordersB' | 'intruder', routingKey: string, body: object): void {
  publish(channels[who]!, config.ORDERS_EXCHANGE, routingKey, body, users[who]);
}

const tenantA = { authorization: `Bearer ${signToken(testJwtSecret, { sub: 'checkout-a', role: 'service', tenant: 'tenant-a' })}` };
const tenantB = { authorization: `Bearer ${signToken(testJwtSecret, { sub: 'checkout-b', role: 'service', tenant: 'tenant-b' })}` };

const orderCreated = (orderId: string, quantity: number) => ({
  eventId: uuidv7(),
  type: 'OrderCreated',
  orderId,
  items: [{ productId: 'p-1', quantity, warehouseId: 'wh-1' }],
});
const orderCompleted = (orderId: string) => ({ eventId: uuidv7(), type: 'OrderCompleted', orderId });

async function reservationsOf(orderId: string): Promise<{ id: string; owner: string; status: string }[]> {
  const { rows } = await t.db.pool.query('select id, owner, status from reservations where order_id = $1 order by created_at, id', [orderId]);
  return rows;
}

async function deadLetterOf(eventId: string): Promise<{ id: string; reason: string; headers: Record<string, unknown> } | undefined> {
  const { rows } = await t.db.pool.query(`select id, reason, headers from dead_letters where payload->>'eventId' = $1`, [eventId]);
  return rows[0];
}

beforeAll(async () => {
  t = await startTestApp('event_publishers', { broker: true });
  config = {
    ...t.config,
    JOB_MAX_ATTEMPTS: 2,
    JOB_RETRY_DELAYS_MS: [100],
    ORDER_EVENT_PUBLISHERS: new Map([
      [users.ordersA, 'tenant-a'],
      [users.ordersB, 'tenant-b'],
    ]),
    CATALOG_EVENT_PUBLISHERS: [users.catalog],
  };
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  amqp = await connectAmqp(t.vhost!.url, logger, { connectionName: 'event-publishers-test', maxDelayMs: 500 });
  await amqp.waitForConnect();
  // the consumers declare the exchanges the publishers write to
  runners = [
    await startOrderEventsConsumer({ config, pool: t.db.pool, logger, amqp }),
    await startCatalogEventsConsumer({ config, pool: t.db.pool, logger, amqp }),
  ];
  const writes: Record<keyof typeof users, string> = {
    ordersA: config.ORDERS_EXCHANGE,
    ordersB: config.ORDERS_EXCHANGE,
    intruder: config.ORDERS_EXCHANGE,
    catalog: config.CATALOG_EXCHANGE,
  };
  for (const [key, user] of Object.entries(users) as [keyof typeof users, string][]) {
    await rabbitmqctl(['add_user', user, password]);
    await rabbitmqctl(['set_permissions', '-p', t.vhost!.name, user, '^$', `^${escape(writes[key])}$`, '^$']);
    channels[key] = await (await connectAs(user)).createChannel();
  }
  broker = await (await connectAs()).createChannel();
  await seedCatalogue(t, { warehouses: ['wh-1'], products: ['p-1'] });
  await receive(t, 'p-1', 'wh-1', 100);
});
afterAll(async () => {
  for (const connection of connections) await connection.close().catch(() => {});
  for (const runner of runners) await runner.stop();
  await amqp.close();
  for (const user of Object.values(users)) await rabbitmqctl(['delete_user', user]);
  await t.close();
});

describe('authenticated publishers', () => {
  it('dead-letters an order event without user_id as unauthenticated_publisher, and stock stays as it was', async () => {
    const before = await stockSnapshot(t.db.pool);
    const forged = orderCreated('forged-1', 7);
    publish(broker, config.ORDERS_EXCHANGE, 'order.created', forged);
    await eventually(async () => (await deadLetterOf(forged.eventId)) !== undefined, 10_000, 'the dead letter');
    expect((await deadLetterOf(forged.eventId))!.reason).toBe('unauthenticated_publisher');
    const copy = await broker.get(`${config.CONSUMER_QUEUE_PREFIX}.order-events.dead`, { noAck: true });
    expect(copy && copy.properties.headers?.[REASON_HEADER]).toBe('unauthenticated_publisher');
    expect(await reservationsOf('forged-1')).toEqual([]);
    expect(await stockSnapshot(t.db.pool)).toEqual(before);
  });

  it("dead-letters an order event of a user that may write to the exchange but is no configured publisher, even for another's order", async () => {
    const reserved = await t.app.inject({
      method: 'POST',
      url: '/api/v1/inventory/reserve',
      headers: tenantA,
      payload: { orderId: 'order-intruded', items: [{ productId: 'p-1', quantity: 2 }] },
    });
    expect(reserved.statusCode).toBe(201);
    const before = await stockSnapshot(t.db.pool);
    const cancel = { eventId: uuidv7(), type: 'OrderCancelled', orderId: 'order-intruded' };
    publishAs('intruder', 'order.cancelled', cancel);
    await eventually(async () => (await deadLetterOf(cancel.eventId)) !== undefined, 10_000, 'the dead letter');
    expect((await deadLetterOf(cancel.eventId))!.reason).toBe('unauthenticated_publisher');
    expect((await reservationsOf('order-intruded')).map((reservation) => reservation.status)).toEqual(['RESERVED']);
    expect(await stockSnapshot(t.db.pool)).toEqual(before);
  });

  it('is refused by the broker itself when a user_id names another user, so a publisher cannot pass for another', async () => {
    const channel = await (await connectAs(users.intruder)).createChannel();
    const closed = new Promise<Error>((resolve) => channel.on('error', resolve));
    publish(channel, config.ORDERS_EXCHANGE, 'order.created', orderCreated('forged-2', 3), users.ordersA);
    expect(String(await closed)).toContain('PRECONDITION_FAILED');
    // an event the honest publisher sends after it is applied; the forged one never reached the queue
    publishAs('ordersA', 'order.created', orderCreated('after-forged-2', 1));
    await eventually(async () => (await reservationsOf('after-forged-2')).length === 1, 10_000, 'the honest event');
    expect(await reservationsOf('forged-2')).toEqual([]);
  });

  it("acts for its publisher's owner only: B's events never touch A's order-1001, A's allocate it", async () => {
    const mine = await t.app.inject({
      method: 'POST',
      url: '/api/v1/inventory/reserve',
      headers: tenantA,
      payload: { orderId: 'order-1001', items: [{ productId: 'p-1', quantity: 5 }] },
    });
    const ofA = mine.json().reservationId as string;

    // B has no order-1001: its completion is retried (the retry copy still names B) and then given up on
    const early = orderCompleted('order-1001');
    publishAs('ordersB', 'order.completed', early);
    await eventually(async () => (await deadLetterOf(early.eventId)) !== undefined, 10_000, "B's completion given up on");
    expect((await deadLetterOf(early.eventId))!.reason).toBe('retries_exhausted');
    expect(await reservationsOf('order-1001')).toEqual([{ id: ofA, owner: 'tenant-a', status: 'RESERVED' }]);

    // B's own order-1001 is a reservation of tenant-b's, beside A's
    publishAs('ordersB', 'order.created', orderCreated('order-1001', 3));
    await eventually(async () => (await reservationsOf('order-1001')).length === 2, 10_000, "B's reservation");
    const ofB = (await reservationsOf('order-1001')).find((reservation) => reservation.owner === 'tenant-b')!;
    expect(ofB.status).toBe('RESERVED');

    // replayed, B's completion keeps its publisher and now allocates B's order, not A's
    const letter = (await deadLetterOf(early.eventId))!;
    const replay = await t.app.inject({ method: 'POST', url: `/api/v1/admin/dead-letters/${letter.id}/replay`, headers: admin });
    expect(replay.statusCode).toBe(200);
    await eventually(async () => (await reservationsOf('order-1001')).find((reservation) => reservation.id === ofB.id)!.status === 'ALLOCATED', 10_000);
    expect((await reservationsOf('order-1001')).find((reservation) => reservation.id === ofA)!.status).toBe('RESERVED');

    publishAs('ordersA', 'order.completed', orderCompleted('order-1001'));
    await eventually(async () => (await reservationsOf('order-1001')).every((reservation) => reservation.status === 'ALLOCATED'), 10_000);
    const seenByA = (await t.app.inject({ method: 'GET', url: '/api/v1/inventory/reservations?orderId=order-1001', headers: tenantA })).json().items;
    const seenByB = (await t.app.inject({ method: 'GET', url: '/api/v1/inventory/reservations?orderId=order-1001', headers: tenantB })).json().items;
    expect(seenByA.map((reservation: { reservationId: string }) => reservation.reservationId)).toEqual([ofA]);
    expect(seenByB.map((reservation: { reservationId: string }) => reservation.reservationId)).toEqual([ofB.id]);
  });

  it('keeps a product from the catalogue publisher, and dead-letters one published without user_id', async () => {
    const forged = { eventId: uuidv7(), type: 'ProductCreated', productId: 'p-forged', sku: 'SKU-FORGED', name: 'Forged' };
    publish(broker, config.CATALOG_EXCHANGE, 'product.created', forged);
    publish(
      channels.catalog!,
      config.CATALOG_EXCHANGE,
      'product.created',
      { eventId: uuidv7(), type: 'ProductCreated', productId: 'p-real', sku: 'SKU-REAL', name: 'Real' },
      users.catalog,
    );
    await eventually(async () => (await t.db.pool.query(`select 1 from products where id = 'p-real'`)).rowCount === 1, 10_000, 'the product');
    await eventually(async () => (await deadLetterOf(forged.eventId)) !== undefined, 10_000, 'the dead letter');
    expect((await deadLetterOf(forged.eventId))!.reason).toBe('unauthenticated_publisher');
    expect((await t.db.pool.query(`select 1 from products where id = 'p-forged'`)).rowCount).toBe(0);
  });
});
