import pino from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { connectAmqp, type AmqpClient } from '../../src/amqp/connection';
import { createEventPublisher, type EventPublisher } from '../../src/amqp/event-publisher';
import { declareEventsExchange } from '../../src/amqp/event-topology';
import { withTransaction } from '../../src/db/client';
import { consumeOnce } from '../../src/events/consume';
import { commitWrites } from '../../src/db/writes';
import { outboxRows } from '../../src/events/outbox';
import { pruneOutbox, relayOutboxRound } from '../../src/events/relay';
import { inventoryEventSchema, type NewEvent } from '../../src/events/schemas';
import { startOutboxRelay } from '../../src/runners/outbox-relay';
import { closeVhostConnections } from '../helpers/amqp';
import { startTestApp, type TestApp } from '../helpers/app';
import { eventually, tapExchange, type EventTap } from '../helpers/event-tap';

const logger = pino({ level: 'silent' });
const relayOptions = { batchSize: 50, retryBaseMs: 60_000, retryMaxMs: 60_000 };

let t: TestApp;
let publisher: EventPublisher;
let tap: EventTap;

async function newPublisher(amqp: AmqpClient): Promise<EventPublisher> {
  return createEventPublisher(amqp, {
    exchange: t.config.EVENTS_EXCHANGE,
    logger,
    declare: (channel) => declareEventsExchange(channel, t.config.EVENTS_EXCHANGE),
    confirmTimeoutMs: t.config.PUBLISH_CONFIRM_TIMEOUT_MS,
  });
}

beforeAll(async () => {
  t = await startTestApp('outbox_relay', { broker: true });
  publisher = await newPublisher(t.amqp!);
  tap = await tapExchange(t.vhost!.url, t.config.EVENTS_EXCHANGE);
});
afterAll(async () => {
  await tap.close();
  await publisher.close();
  await t.close();
});
beforeEach(async () => {
  await t.db.pool.query('delete from outbox_events');
  tap.messages.length = 0;
});

/** A StockAdjusted of product `productId` at wh-1 whose previousStock carries a sequence number. */
function adjusted(productId: string, sequence: number): NewEvent {
  return {
    type: 'StockAdjusted',
    adjustmentId: uuidv7(),
    productId,
    warehouseId: 'wh-1',
    adjustmentType: 'RECEIPT',
    quantity: 1,
    previousStock: sequence,
    newStock: sequence + 1,
    reason: null,
    reference: null,
    adjustedBy: 'test',
  };
}

async function record(events: NewEvent[]) {
  const rows = outboxRows(events);
  await withTransaction(t.db.pool, (tx) => commitWrites(tx, { outbox: rows }));
  return rows.map((row) => inventoryEventSchema.parse(row.payload));
}

async function pendingCount(): Promise<number> {
  const { rows } = await t.db.pool.query('select count(*)::int as n from outbox_events where published_at is null');
  return rows[0].n;
}

describe('the outbox relay', () => {
  it('publishes each recorded event once: routing key, messageId = eventId, the event JSON as body', async () => {
    const recorded = await record([
      adjusted('p-1', 1),
      {
        type: 'InventoryReserved',
        reservationId: uuidv7(),
        orderId: 'ord-1',
        customerId: 'cust-1',
        items: [{ productId: 'p-1', warehouseId: 'wh-1', quantity: 2 }],
        expiresAt: new Date('2030-01-01T00:30:00Z'),
      },
    ]);

    expect(await relayOutboxRound(t.db.pool, publisher, relayOptions)).toEqual({ claimed: 2, published: 2, failed: 0 });
    expect(await relayOutboxRound(t.db.pool, publisher, relayOptions)).toEqual({ claimed: 0, published: 0, failed: 0 });
    const messages = await tap.waitFor(2);

    expect(messages.map((message) => [message.routingKey, message.messageId, message.type])).toEqual([
      ['inventory.stock_adjusted', recorded[0]!.eventId, 'StockAdjusted'],
      ['inventory.reserved', recorded[1]!.eventId, 'InventoryReserved'],
    ]);
    expect(messages[1]!.body).toMatchObject({ type: 'InventoryReserved', orderId: 'ord-1', expiresAt: '2030-01-01T00:30:00.000Z' });
    expect(messages.map((message) => inventoryEventSchema.parse(message.body))).toEqual(recorded);
    expect(messages[0]!.raw.properties.deliveryMode).toBe(2);
    expect(await pendingCount()).toBe(0);
  });

  it('sends an event again when the relay dies between publish and mark, and a consumer keyed by eventId ignores the repeat', async () => {
    const [event] = await record([adjusted('p-2', 1)]);
    // publishes for real, then the process "dies" before the mark commits: the transaction rolls back
    const dying: EventPublisher = {
      ...publisher,
      async publish(events) {
        await publisher.publish(events);
        throw new Error('killed after publish');
      },
    };
    await expect(relayOutboxRound(t.db.pool, dying, relayOptions)).rejects.toThrow('killed after publish');
    expect(await pendingCount()).toBe(1);

    await relayOutboxRound(t.db.pool, publisher, relayOptions);
    const messages = await tap.waitFor(2);
    expect(messages.map((message) => message.messageId)).toEqual([event!.eventId, event!.eventId]);
    expect(await pendingCount()).toBe(0);

    let effects = 0;
    const outcomes = [];
    for (const message of messages) {
      outcomes.push(
        await consumeOnce(t.db.pool, { consumer: 'test-consumer', eventId: message.messageId!, eventType: message.type! }, () => {
          effects += 1;
          return Promise.resolve();
        }),
      );
    }
    expect(outcomes).toEqual(['processed', 'duplicate']);
    expect(effects).toBe(1);
  });

  it('with two relays at once publishes every event once and keeps each aggregate in order', async () => {
    const products = ['p-a', 'p-b', 'p-c', 'p-d'];
    const sequences = new Map(products.map((product) => [product, 0]));
    // several transactions, each interleaving the aggregates
    for (let batch = 0; batch < 15; batch += 1) {
      await record(
        products.flatMap((product) => {
          const next = sequences.get(product)! + 1;
          sequences.set(product, next + 1);
          return [adjusted(product, next), adjusted(product, next + 1)];
        }),
      );
    }
    const total = products.length * 30;
    const secondAmqp = await connectAmqp(t.vhost!.url, logger, { connectionName: 'second-relay', maxDelayMs: 1000 });
    await secondAmqp.waitForConnect();
    const secondPublisher = await newPublisher(secondAmqp);
    try {
      const small = { ...relayOptions, batchSize: 7 };
      const rounds = { first: 0, second: 0 };
      const drain = async (relay: EventPublisher, name: keyof typeof rounds) => {
        while ((await pendingCount()) > 0) {
          const round = await relayOutboxRound(t.db.pool, relay, small);
          rounds[name] += round.published;
        }
      };
      await Promise.all([drain(publisher, 'first'), drain(secondPublisher, 'second')]);
      expect(rounds.first + rounds.second).toBe(total);

      const messages = await tap.waitFor(total);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(messages).toHaveLength(total);
      expect(new Set(messages.map((message) => message.messageId)).size).toBe(total);
      for (const product of products) {
        const seen = messages.filter((message) => message.body.productId === product).map((message) => message.body.previousStock);
        expect(seen).toEqual(Array.from({ length: 30 }, (_, index) => index + 1));
      }
    } finally {
      await secondPublisher.close();
      await secondAmqp.close();
    }
  });

  it('retries a refused event later and holds back the later events of its aggregate until it goes out', async () => {
    const [x1, x2] = await record([adjusted('p-x', 1), adjusted('p-x', 2)]);
    const refusing: EventPublisher = { ...publisher, publish: (events) => Promise.resolve(events.map(() => new Error('nacked'))) };
    expect(await relayOutboxRound(t.db.pool, refusing, relayOptions)).toEqual({ claimed: 2, published: 0, failed: 2 });
    const { rows: failed } = await t.db.pool.query(
      `select attempts, last_error, available_at > now() + interval '50 seconds' as later from outbox_events order by id`,
    );
    expect(failed).toEqual([
      { attempts: 1, last_error: 'nacked', later: true },
      { attempts: 1, last_error: 'nacked', later: true },
    ]);

    const [y1] = await record([adjusted('p-y', 1)]);
    // x2 is due again but x1 is not: only the other aggregate may go
    await t.db.pool.query(`update outbox_events set available_at = now() where event_id = $1`, [x2!.eventId]);
    expect(await relayOutboxRound(t.db.pool, publisher, relayOptions)).toMatchObject({ published: 1 });
    expect((await tap.waitFor(1)).map((message) => message.messageId)).toEqual([y1!.eventId]);

    await t.db.pool.query(`update outbox_events set available_at = now() where event_id = $1`, [x1!.eventId]);
    expect(await relayOutboxRound(t.db.pool, publisher, relayOptions)).toMatchObject({ published: 2 });
    expect((await tap.waitFor(3)).map((message) => message.messageId)).toEqual([y1!.eventId, x1!.eventId, x2!.eventId]);
  });

  it('prunes published events older than the retention and keeps the rest', async () => {
    const [old, recent, pending] = await record([adjusted('p-1', 1), adjusted('p-1', 2), adjusted('p-1', 3)]);
    await t.db.pool.query(`update outbox_events set published_at = now() - interval '73 hours' where event_id = $1`, [old!.eventId]);
    await t.db.pool.query(`update outbox_events set published_at = now() - interval '71 hours' where event_id = $1`, [recent!.eventId]);

    expect(await pruneOutbox(t.db.pool, { retentionHours: 72, chunkSize: 1 })).toBe(1);
    const { rows } = await t.db.pool.query('select event_id from outbox_events order by id');
    expect(rows.map((row) => row.event_id)).toEqual([recent!.eventId, pending!.eventId]);
  });
});

describe('the outbox relay runner', () => {
  it('prunes at start, publishes what is pending, and carries on after the broker drops its connection', async () => {
    const [old] = await record([adjusted('p-r', 1)]);
    await t.db.pool.query(`update outbox_events set published_at = now() - interval '100 hours'`);
    const [first] = await record([adjusted('p-r', 2)]);

    const amqp = await connectAmqp(t.vhost!.url, logger, { connectionName: 'relay-runner', maxDelayMs: 200 });
    await amqp.waitForConnect();
    const config = { ...t.config, OUTBOX_POLL_INTERVAL_MS: 20 };
    const runner = await startOutboxRelay({ config, pool: t.db.pool, logger, amqp });
    try {
      await tap.waitFor(1);
      expect(tap.messages[0]!.messageId).toBe(first!.eventId);
      const { rows } = await t.db.pool.query('select 1 from outbox_events where event_id = $1', [old!.eventId]);
      expect(rows).toHaveLength(0);

      await closeVhostConnections(t.vhost!.name);
      tap = await tapExchange(t.vhost!.url, t.config.EVENTS_EXCHANGE);
      const [second] = await record([adjusted('p-r', 3)]);
      await eventually(() => tap.messages.some((message) => message.messageId === second!.eventId), 20_000, 'the event after the reconnect');
    } finally {
      await runner.stop();
      await amqp.close();
    }
  });
});
