import amqplib, { type Channel, type ChannelModel } from 'amqplib';
import pino from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { connectAmqp, type AmqpClient } from '../../src/amqp/connection';
import type { Config } from '../../src/config';
import { startCatalogEventsConsumer } from '../../src/runners/catalog-events-consumer';
import { REASON_HEADER } from '../../src/amqp/settle';
import type { Runner } from '../../src/runners/runner';
import { startOrderEventsConsumer } from '../../src/runners/order-events-consumer';
import { startTestApp, type TestApp } from '../helpers/app';
import { eventually } from '../helpers/event-tap';
import { admin, receive, seedCatalogue } from '../helpers/inventory';
import { bearer } from '../helpers/tokens';

let t: TestApp;
let config: Config;
let amqp: AmqpClient;
let runners: Runner[];
let connection: ChannelModel;
let channel: Channel;
/** The broker's user this file connects as, and publishes as. */
let brokerUser: string;

beforeAll(async () => {
  t = await startTestApp('order_events', { broker: true });
  brokerUser = decodeURIComponent(new URL(t.vhost!.url).username) || 'guest';
  // short retry delays so a test sees the whole retry path; this file publishes as the broker's own
  // user, allowed here (test/integration/event-publishers.test.ts gives publishers users of their own)
  config = {
    ...t.config,
    JOB_MAX_ATTEMPTS: 3,
    JOB_RETRY_DELAYS_MS: [100, 200],
    ORDER_EVENT_PUBLISHERS: new Map([[brokerUser, 'tenant-orders']]),
    CATALOG_EVENT_PUBLISHERS: [brokerUser],
  };
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  amqp = await connectAmqp(t.vhost!.url, logger, { connectionName: 'order-events-test', maxDelayMs: 500 });
  await amqp.waitForConnect();
  runners = [
    await startOrderEventsConsumer({ config, pool: t.db.pool, logger, amqp }),
    await startCatalogEventsConsumer({ config, pool: t.db.pool, logger, amqp }),
  ];
  connection = await amqplib.connect(t.vhost!.url);
  channel = await connection.createChannel();
  await seedCatalogue(t, { warehouses: ['wh-1'], products: ['p-1', 'p-2'] });
  await receive(t, 'p-1', 'wh-1', 100);
});
afterAll(async () => {
  await connection.close();
  for (const runner of runners) await runner.stop();
  await amqp.close();
  await t.close();
});

const orderQueue = () => `${config.CONSUMER_QUEUE_PREFIX}.order-events`;

function publishOrderEvent(routingKey: string, body: unknown, eventId?: string): void {
  const content = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  channel.publish(config.ORDERS_EXCHANGE, routingKey, content, {
    persistent: true,
    userId: brokerUser,
    contentType: 'application/json',
    ...(eventId ? { messageId: eventId } : {}),
  });
}

function orderCreated(orderId: string, quantity: number, extra: Record<string, unknown> = {}) {
  return { eventId: uuidv7(), type: 'OrderCreated', orderId, customerId: 'cust-1', items: [{ productId: 'p-1', quantity, warehouseId: 'wh-1' }], ...extra };
}

async function reservationsOf(orderId: string): Promise<{ id: string; status: string }[]> {
  const { rows } = await t.db.pool.query('select id, status from reservations where order_id = $1 order by created_at, id', [orderId]);
  return rows;
}

async function statusOf(orderId: string): Promise<string | undefined> {
  return (await reservationsOf(orderId))[0]?.status;
}

async function heldFor(orderId: string): Promise<{ reserved: number; allocated: number }> {
  const { rows } = await t.db.pool.query(
    `select coalesce(sum(l.quantity - l.allocated_quantity - l.released_quantity), 0)::int as reserved,
            coalesce(sum(l.allocated_quantity), 0)::int as allocated
       from reservation_lines l join reservations r on r.id = l.reservation_id where r.order_id = $1`,
    [orderId],
  );
  return rows[0];
}

async function outboxTypesFor(reservationId: string): Promise<string[]> {
  const { rows } = await t.db.pool.query(`select event_type from outbox_events where aggregate_id = $1 order by id`, [reservationId]);
  return rows.map((row) => row.event_type);
}

async function deadLettersWith(predicate: (row: { reason: string; payload: any }) => boolean) {
  const { rows } = await t.db.pool.query(`select reason, attempts, queue, payload, last_error as "lastError" from dead_letters order by created_at`);
  return rows.filter(predicate);
}

/** Reads every message waiting in the order queue's dead-letter queue. */
async function drainDeadQueue(): Promise<amqplib.GetMessage[]> {
  const messages: amqplib.GetMessage[] = [];
  for (;;) {
    const message = await channel.get(`${orderQueue()}.dead`, { noAck: true });
    if (message === false) return messages;
    messages.push(message);
  }
}

describe('order events', () => {
  it('created reserves and cancelled releases, each recording its event', async () => {
    publishOrderEvent('order.created', orderCreated('ord-life-1', 3));
    await eventually(async () => (await statusOf('ord-life-1')) === 'RESERVED', 10_000, 'the reservation');
    expect(await heldFor('ord-life-1')).toEqual({ reserved: 3, allocated: 0 });

    publishOrderEvent('order.cancelled', { eventId: uuidv7(), type: 'OrderCancelled', orderId: 'ord-life-1', reason: 'customer changed their mind' });
    await eventually(async () => (await statusOf('ord-life-1')) === 'RELEASED', 10_000, 'the release');
    expect(await heldFor('ord-life-1')).toEqual({ reserved: 0, allocated: 0 });
    const [reservation] = await reservationsOf('ord-life-1');
    expect(await outboxTypesFor(reservation!.id)).toEqual(['InventoryReserved', 'InventoryReleased']);
  });

  it('created then completed allocates, even when both arrive back to back', async () => {
    publishOrderEvent('order.created', orderCreated('ord-life-2', 4));
    publishOrderEvent('order.completed', { eventId: uuidv7(), type: 'OrderCompleted', orderId: 'ord-life-2' });
    await eventually(async () => (await statusOf('ord-life-2')) === 'ALLOCATED', 10_000, 'the allocation');
    expect(await heldFor('ord-life-2')).toEqual({ reserved: 0, allocated: 4 });
    const [reservation] = await reservationsOf('ord-life-2');
    expect(await outboxTypesFor(reservation!.id)).toEqual(['InventoryReserved', 'InventoryAllocated']);
  });

  it('a cancellation that arrives before its order is retried until the order is there', async () => {
    publishOrderEvent('order.cancelled', { eventId: uuidv7(), type: 'OrderCancelled', orderId: 'ord-late' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    publishOrderEvent('order.created', orderCreated('ord-late', 2));
    await eventually(async () => (await statusOf('ord-late')) === 'RELEASED', 10_000, 'the late release');
  });

  it('a redelivered event changes nothing, and an order is never reserved twice', async () => {
    const event = orderCreated('ord-dup', 5);
    const again = { ...event, eventId: uuidv7() };
    publishOrderEvent('order.created', event, event.eventId);
    publishOrderEvent('order.created', event, event.eventId);
    publishOrderEvent('order.created', again);
    // one order's events are applied in arrival order, so once the last is recorded the others were handled
    await eventually(async () => (await t.db.pool.query(`select 1 from processed_events where event_id = $1`, [again.eventId])).rows.length === 1);

    const processed = await t.db.pool.query(`select consumer, event_type from processed_events where event_id = $1`, [event.eventId]);
    expect(processed.rows).toEqual([{ consumer: 'order-events', event_type: 'OrderCreated' }]);
    const [reservation, ...others] = await reservationsOf('ord-dup');
    expect(others).toEqual([]);
    expect(await heldFor('ord-dup')).toEqual({ reserved: 5, allocated: 0 });
    const ledger = await t.db.pool.query(`select type, reserved_delta from inventory_transactions where reference_id = $1`, [reservation!.id]);
    expect(ledger.rows).toEqual([{ type: 'RESERVE', reserved_delta: 5 }]);
  });

  it('an invalid event is dead-lettered at once with its reason, and never retried', async () => {
    await drainDeadQueue();
    publishOrderEvent('order.created', '{ not json');
    publishOrderEvent('order.created', orderCreated('ord-bad', 0));
    // a valid event behind them: once it is served, the two before it had their turn
    publishOrderEvent('order.created', orderCreated('ord-after-bad', 1));
    await eventually(async () => (await statusOf('ord-after-bad')) === 'RESERVED', 10_000, 'the event behind the invalid ones');
    await new Promise((resolve) => setTimeout(resolve, 400)); // longer than every retry delay

    const [letter] = await deadLettersWith((row) => row.payload?.orderId === 'ord-bad');
    expect(letter).toMatchObject({ attempts: 1, queue: orderQueue() });
    expect(letter!.lastError).toMatch(/items\.0\.quantity/);
    const copies = await drainDeadQueue();
    expect(copies.map((message) => String(message.properties.headers?.[REASON_HEADER])).sort()).toEqual(['invalid_event', 'unparseable']);
    expect(await reservationsOf('ord-bad')).toEqual([]);
    // nothing is left circulating
    expect((await channel.checkQueue(orderQueue())).messageCount).toBe(0);
    expect(await deadLettersWith((row) => row.reason === 'invalid_event' || row.reason === 'unparseable')).toHaveLength(2);
  });

  it('a refusal that will not change is dead-lettered with its code as the reason', async () => {
    publishOrderEvent('order.created', orderCreated('ord-too-big', 10_000));
    await eventually(async () => (await deadLettersWith((row) => row.payload?.orderId === 'ord-too-big')).length === 1);
    const [letter] = await deadLettersWith((row) => row.payload?.orderId === 'ord-too-big');
    expect(letter).toMatchObject({ reason: 'insufficient_stock', attempts: 1 });
  });

  it('a failure that may pass is tried JOB_MAX_ATTEMPTS times, then dead-lettered', async () => {
    publishOrderEvent('order.completed', { eventId: uuidv7(), type: 'OrderCompleted', orderId: 'ord-never' });
    await eventually(async () => (await deadLettersWith((row) => row.payload?.orderId === 'ord-never')).length === 1, 15_000);
    const [letter] = await deadLettersWith((row) => row.payload?.orderId === 'ord-never');
    expect(letter).toMatchObject({ reason: 'retries_exhausted', attempts: 3 });
    expect(letter!.lastError).toMatch(/no reservation/);
  });

  it('an operator replays a dead-lettered order to its own queue once stock has arrived', async () => {
    await receive(t, 'p-2', 'wh-1', 1);
    publishOrderEvent('order.created', { ...orderCreated('ord-replay', 5), items: [{ productId: 'p-2', quantity: 5 }] });
    await eventually(async () => (await deadLettersWith((row) => row.payload?.orderId === 'ord-replay')).length === 1);
    const { rows } = await t.db.pool.query(`select id from dead_letters where payload->>'orderId' = 'ord-replay'`);

    await receive(t, 'p-2', 'wh-1', 10);
    const replay = await t.app.inject({ method: 'POST', url: `/api/v1/admin/dead-letters/${rows[0].id}/replay`, headers: admin });
    expect(replay.statusCode).toBe(200);
    await eventually(async () => (await statusOf('ord-replay')) === 'RESERVED', 10_000, 'the replayed reservation');
  });
});

describe('catalogue events', () => {
  const publishProduct = (body: unknown) =>
    channel.publish(config.CATALOG_EXCHANGE, 'product.created', Buffer.from(JSON.stringify(body)), { persistent: true, userId: brokerUser });

  it('ProductCreated records the product once; a sku taken by another product is dead-lettered', async () => {
    const event = { eventId: uuidv7(), type: 'ProductCreated', productId: 'p-new', sku: 'SKU-NEW', name: 'New thing' };
    publishProduct(event);
    publishProduct(event);
    await eventually(async () => (await t.db.pool.query(`select 1 from products where id = 'p-new'`)).rows.length === 1);
    const product = await t.app.inject({ method: 'GET', url: '/api/v1/products/p-new', headers: admin });
    expect(product.json()).toMatchObject({ id: 'p-new', sku: 'SKU-NEW', name: 'New thing' });

    publishProduct({ eventId: uuidv7(), type: 'ProductCreated', productId: 'p-other', sku: 'SKU-NEW', name: 'Clash' });
    await eventually(async () => (await deadLettersWith((row) => row.payload?.productId === 'p-other')).length === 1);
    const [letter] = await deadLettersWith((row) => row.payload?.productId === 'p-other');
    expect(letter).toMatchObject({ reason: 'already_exists', queue: `${config.CONSUMER_QUEUE_PREFIX}.catalog-events` });
    const { rows } = await t.db.pool.query(`select count(*)::int as n from processed_events where consumer = 'catalog-events' and event_id = $1`, [
      event.eventId,
    ]);
    expect(rows[0].n).toBe(1);
  });
});

describe('order events of serial-tracked products (seed 004: invoice created, cancelled, paid, delivered)', () => {
  beforeAll(async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/products',
      headers: admin,
      payload: { id: 'p-serial', sku: 'SKU-SERIAL', name: 'Phone', tracking: 'serial' },
    });
    expect(created.statusCode).toBe(201);
    await receive(t, 'p-serial', 'wh-1', 4, { units: ['IM-1', 'IM-2', 'IM-3', 'IM-4'].map((serialNumber) => ({ serialNumber })) });
  });

  async function unitStatuses(): Promise<Record<string, string>> {
    const { rows } = await t.db.pool.query<{ serial: string; status: string }>(
      `select serial_number as serial, status from stock_units where product_id = 'p-serial' order by serial_number`,
    );
    return Object.fromEntries(rows.map((row) => [row.serial, row.status]));
  }

  it('created reserves the units named, cancelled makes them available again', async () => {
    publishOrderEvent('order.created', orderCreated('ord-serial-1', 2, { items: [{ productId: 'p-serial', quantity: 2, serialNumbers: ['IM-2', 'IM-3'] }] }));
    await eventually(async () => (await statusOf('ord-serial-1')) === 'RESERVED', 10_000, 'the reservation');
    expect(await unitStatuses()).toEqual({ 'IM-1': 'AVAILABLE', 'IM-2': 'RESERVED', 'IM-3': 'RESERVED', 'IM-4': 'AVAILABLE' });

    publishOrderEvent('order.cancelled', { eventId: uuidv7(), type: 'OrderCancelled', orderId: 'ord-serial-1', reason: 'invoice cancelled' });
    await eventually(async () => (await statusOf('ord-serial-1')) === 'RELEASED', 10_000, 'the release');
    expect(await unitStatuses()).toEqual({ 'IM-1': 'AVAILABLE', 'IM-2': 'AVAILABLE', 'IM-3': 'AVAILABLE', 'IM-4': 'AVAILABLE' });
  });

  it('created then completed (paid) marks the units sold, and shipping delivers them', async () => {
    publishOrderEvent('order.created', orderCreated('ord-serial-2', 1, { items: [{ productId: 'p-serial', quantity: 1 }] }));
    publishOrderEvent('order.completed', { eventId: uuidv7(), type: 'OrderCompleted', orderId: 'ord-serial-2' });
    await eventually(async () => (await statusOf('ord-serial-2')) === 'ALLOCATED', 10_000, 'the allocation');
    expect(await unitStatuses()).toEqual({ 'IM-1': 'SOLD', 'IM-2': 'AVAILABLE', 'IM-3': 'AVAILABLE', 'IM-4': 'AVAILABLE' });

    const [reservation] = await reservationsOf('ord-serial-2');
    const owner = bearer('service', 'tenant-orders');
    const shipped = await t.app.inject({ method: 'POST', url: '/api/v1/inventory/ship', headers: owner, payload: { reservationId: reservation!.id } });
    expect(shipped.statusCode).toBe(200);
    expect((await unitStatuses())['IM-1']).toBe('DELIVERED');
  });

  it('created, paid and delivered: the units become Reserved, Sold and Delivered, each step in their history', async () => {
    publishOrderEvent('order.created', orderCreated('ord-serial-3', 1, { items: [{ productId: 'p-serial', quantity: 1, serialNumbers: ['IM-4'] }] }));
    await eventually(async () => (await unitStatuses())['IM-4'] === 'RESERVED', 10_000, 'the reservation');
    publishOrderEvent('order.paid', { eventId: uuidv7(), type: 'OrderPaid', orderId: 'ord-serial-3' });
    await eventually(async () => (await statusOf('ord-serial-3')) === 'ALLOCATED', 10_000, 'the allocation');
    expect((await unitStatuses())['IM-4']).toBe('SOLD');
    // a second OrderPaid (another eventId) finds the order paid and changes nothing
    publishOrderEvent('order.paid', { eventId: uuidv7(), type: 'OrderPaid', orderId: 'ord-serial-3' });
    publishOrderEvent('order.delivered', { eventId: uuidv7(), type: 'OrderDelivered', orderId: 'ord-serial-3' });
    await eventually(async () => (await statusOf('ord-serial-3')) === 'FULFILLED', 10_000, 'the delivery');
    expect((await unitStatuses())['IM-4']).toBe('DELIVERED');
    const { rows } = await t.db.pool.query<{ step: string }>(
      `select coalesce(h.from_status, '-') || '>' || h.to_status as step from unit_status_history h join stock_units u on u.id = h.unit_id
        where u.product_id = 'p-serial' and u.serial_number = 'IM-4' order by h.id`,
    );
    expect(rows.map((row) => row.step)).toEqual(['->AVAILABLE', 'AVAILABLE>RESERVED', 'RESERVED>SOLD', 'SOLD>DELIVERED']);
  });

  it('a delivery of an order not paid is refused (invalid_transition) and changes nothing', async () => {
    publishOrderEvent('order.created', orderCreated('ord-serial-4', 1, { items: [{ productId: 'p-serial', quantity: 1, serialNumbers: ['IM-2'] }] }));
    await eventually(async () => (await statusOf('ord-serial-4')) === 'RESERVED', 10_000, 'the reservation');
    publishOrderEvent('order.delivered', { eventId: uuidv7(), type: 'OrderDelivered', orderId: 'ord-serial-4' });
    await eventually(
      async () =>
        (await t.db.pool.query(`select 1 from dead_letters where reason = 'invalid_transition' and payload ->> 'orderId' = 'ord-serial-4'`)).rowCount === 1,
      10_000,
      'the dead letter',
    );
    expect(await statusOf('ord-serial-4')).toBe('RESERVED');
    expect((await unitStatuses())['IM-2']).toBe('RESERVED');
  });
});
