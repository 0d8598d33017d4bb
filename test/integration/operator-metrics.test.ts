import { execFile } from 'node:child_process';
import { connect } from 'amqplib';
import pino from 'pino';
import { deadQueueBounds, declareDeadQueue } from '../../src/amqp/topology';
import { readinessProbe } from '../../src/operations/readiness';
import { startWorkerServer } from '../../src/operations/worker-server';
import { startOrderEventsConsumer } from '../../src/runners/order-events-consumer';
import type { Runner } from '../../src/runners/runner';
import { waitFor } from '../helpers/allocations';
import { startTestApp, type TestApp } from '../helpers/app';
import { admin, receive, seedCatalogue, service } from '../helpers/inventory';
import { freePort, startStack, type Stack } from '../helpers/stack';

const logger = pino({ level: 'silent' });
let t: TestApp;
beforeAll(async () => {
  // the dead-letter queues' copies expire after a second here, so the test can watch them go
  t = await startTestApp('operator-metrics', { broker: true, env: { LEDGER_CHECK_INTERVAL_MS: '200', DEAD_LETTER_QUEUE_TTL_MS: '1000' } });
  await seedCatalogue(t, { warehouses: ['wh-1'], products: ['p-low', 'p-out', 'p-held'] });
});
afterAll(async () => t.close());

async function scrape(): Promise<string> {
  const response = await t.admin('/metrics');
  expect(response.status).toBe(200);
  return response.text();
}

/** The value of one sample, e.g. `name{label="x"}`; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Scrapes until every series has its expected value (the database's gauges are counted at most once a second). */
async function eventually(expected: Record<string, number | undefined>): Promise<void> {
  const read = async () => {
    const text = await scrape();
    return Object.fromEntries(Object.keys(expected).map((series) => [series, sample(text, series)]));
  };
  const deadline = Date.now() + 10_000;
  let seen = await read();
  while (JSON.stringify(seen) !== JSON.stringify(expected) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    seen = await read();
  }
  expect(seen).toEqual(expected);
}

/** `promtool check metrics` on an exposition: its exit code and what it found. */
function promtoolCheck(exposition: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile('promtool', ['check', 'metrics'], (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, output: stdout + stderr }),
    );
    child.stdin!.end(exposition);
  });
}

describe('the gauges counted from the database', () => {
  it('count overdue reservations, the outbox backlog, low and critical stock, and lots that differ from the ledger', async () => {
    await receive(t, 'p-low', 'wh-1', 5);
    await receive(t, 'p-held', 'wh-1', 10);
    const settings = (productId: string, reorderPoint: number, minStockLevel: number) =>
      t.app.inject({
        method: 'PUT',
        url: '/api/v1/inventory/settings',
        headers: admin,
        payload: { productId, warehouseId: 'wh-1', reorderPoint, reorderQuantity: 10, minStockLevel },
      });
    expect((await settings('p-low', 8, 2)).statusCode).toBe(200);
    expect((await settings('p-out', 8, 2)).statusCode).toBe(200);
    const reserved = await t.app.inject({
      method: 'POST',
      url: '/api/v1/inventory/reserve',
      headers: service,
      payload: { orderId: 'ord-held', items: [{ productId: 'p-held', quantity: 3 }] },
    });
    expect(reserved.statusCode).toBe(201);
    // no sweeper runs here: a hold whose time ran out stays RESERVED, overdue
    await t.db.pool.query(`update reservations set expires_at = now() - interval '1 minute' where order_id = 'ord-held'`);
    const pending = await t.db.pool.query<{ count: number }>('select count(*)::int as count from outbox_events where published_at is null');
    expect(pending.rows[0]!.count).toBeGreaterThan(0);

    await eventually({
      stockroom_reservations_overdue: 1,
      stockroom_outbox_pending_events: pending.rows[0]!.count,
      'stockroom_low_stock_items{severity="LOW"}': 1,
      'stockroom_low_stock_items{severity="CRITICAL"}': 1,
      stockroom_oversold_lots: 0,
      stockroom_reconcile_differing_lots: 0,
    });
    expect(sample(await scrape(), 'stockroom_outbox_oldest_pending_age_seconds')).toBeGreaterThan(0);

    // a lot changed behind the ledger's back
    await t.db.pool.query(`update inventory_items set quantity = quantity + 1 where product_id = 'p-held'`);
    await eventually({ stockroom_reconcile_differing_lots: 1 });
    expect(sample(await scrape(), 'stockroom_reconcile_last_check_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
    await t.db.pool.query(`update inventory_items set quantity = quantity - 1 where product_id = 'p-held'`);
    await eventually({ stockroom_reconcile_differing_lots: 0 });
  });
});

describe('event consumers and dead letters', () => {
  let consumer: Runner;
  beforeAll(async () => {
    // the events below are published as the broker's own user, allowed here as an order publisher
    const config = { ...t.config, ORDER_EVENT_PUBLISHERS: new Map([[t.amqp!.user, 'tenant-orders']]) };
    consumer = await startOrderEventsConsumer({ config, pool: t.db.pool, logger, amqp: t.amqp! });
  });
  afterAll(async () => consumer.stop());

  it('count events by outcome, dead letters by reason, the open ones from the table, and the broker copies drain by their TTL', async () => {
    const queue = `${t.config.CONSUMER_QUEUE_PREFIX}.order-events`;
    const connection = await connect(t.config.AMQP_URL[0]!);
    try {
      const channel = await connection.createConfirmChannel();
      const asPublisher = { userId: t.amqp!.user };
      channel.publish(t.config.ORDERS_EXCHANGE, 'order.created', Buffer.from('not json'), asPublisher);
      channel.publish(t.config.ORDERS_EXCHANGE, 'order.created', Buffer.from(JSON.stringify({ eventId: 'e-1', type: 'order.created' })), asPublisher);
      await channel.waitForConfirms();

      await eventually({
        [`stockroom_events_consumed_total{queue="${queue}",outcome="dead_lettered"}`]: 2,
        [`stockroom_dead_letters_open{queue="${queue}",reason="unparseable"}`]: 1,
        [`stockroom_dead_letters_open{queue="${queue}",reason="invalid_event"}`]: 1,
      });
      const text = await scrape();
      expect(sample(text, `stockroom_dead_letters_total{queue="${queue}",reason="unparseable"}`)).toBe(1);
      expect(sample(text, `stockroom_dead_letters_total{queue="${queue}",reason="invalid_event"}`)).toBe(1);

      // the broker's copies expire (DEAD_LETTER_QUEUE_TTL_MS), the table keeps the record
      await waitFor(
        'the dead-letter copies to expire',
        async () => ((await channel.checkQueue(`${queue}.dead`)).messageCount === 0 ? true : undefined),
        15_000,
      );
      expect(sample(await scrape(), `stockroom_dead_letters_open{queue="${queue}",reason="unparseable"}`)).toBe(1);

      // purged in the table: the open gauge drops the reason instead of keeping its last count
      await t.db.pool.query(`delete from dead_letters where reason = 'unparseable'`);
      await eventually({
        [`stockroom_dead_letters_open{queue="${queue}",reason="unparseable"}`]: undefined,
        [`stockroom_dead_letters_open{queue="${queue}",reason="invalid_event"}`]: 1,
      });
    } finally {
      await connection.close();
    }
  });

  it('keeps a dead-letter queue declared earlier without bounds, instead of failing on PRECONDITION_FAILED', async () => {
    const connection = await connect(t.config.AMQP_URL[0]!);
    try {
      const channel = await connection.createChannel();
      await channel.assertQueue('legacy.dead', { durable: true });
      const bounds = deadQueueBounds(t.config);
      expect(await declareDeadQueue(connection, 'legacy.dead', bounds)).toBe('kept');
      // a new one gets the bounds, and declaring it again with them is fine
      expect(await declareDeadQueue(connection, 'fresh.dead', bounds)).toBe('declared');
      expect(await declareDeadQueue(connection, 'fresh.dead', bounds)).toBe('declared');
      // a policy bounds the old one without redeclaring it (docs/operations.md)
      expect((await channel.checkQueue('legacy.dead')).queue).toBe('legacy.dead');
    } finally {
      await connection.close();
    }
  });
});

describe('a worker-only process', () => {
  it('serves its own metrics and none of the gauges counted from the database', async () => {
    const server = await startWorkerServer('127.0.0.1', 0, { logger, probe: readinessProbe({ pool: t.db.pool, amqp: t.amqp, logger }), timeouts: t.config });
    try {
      const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      expect(text).toContain('# TYPE stockroom_allocation_jobs_total counter');
      expect(text).toContain('# TYPE process_cpu_seconds_total counter');
      for (const name of [
        'stockroom_oversold_lots',
        'stockroom_reservations',
        'stockroom_outbox_pending_events',
        'stockroom_dead_letters_open',
        'stockroom_allocation_backlog',
      ]) {
        expect(text).not.toContain(`# TYPE ${name} `);
      }
    } finally {
      await server.close();
    }
  });
});

describe('promtool check metrics', () => {
  let stack: Stack;
  let ports: { api: number; worker: number };
  beforeAll(async () => {
    ports = { api: await freePort(), worker: await freePort() };
    stack = await startStack('promtool-metrics', { env: { ADMIN_PORT: String(ports.worker) }, apiEnv: { ADMIN_PORT: String(ports.api) } });
  });
  afterAll(async () => stack.stop());

  it.each(['api', 'worker'] as const)("passes on the live /metrics of the %s process, Node's metrics unprefixed", async (role) => {
    const response = await fetch(`http://127.0.0.1:${ports[role]}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain('# TYPE nodejs_heap_size_used_bytes gauge');
    expect(text).not.toContain('stockroom_nodejs_');
    expect(text.includes('# TYPE stockroom_oversold_lots gauge')).toBe(role === 'api');
    const checked = await promtoolCheck(text);
    expect(checked).toEqual({ code: 0, output: '' });
  });
});
