import { v7 as uuidv7 } from 'uuid';
import pino from 'pino';
import { createEventPublisher, type EventPublisher } from '../../src/amqp/event-publisher';
import { declareEventsExchange } from '../../src/amqp/event-topology';
import { inventoryEventSchema } from '../../src/events/schemas';
import { relayOutboxRound } from '../../src/events/relay';
import { runAllocationJobs } from '../../src/inventory/jobs/allocation-jobs';
import { expireReservations } from '../../src/inventory/reservations/expire';
import { startTestApp, type TestApp } from '../helpers/app';
import { tapExchange, type EventTap, type TappedMessage } from '../helpers/event-tap';
import { inventoryApi } from '../helpers/inventory-api';
import { admin, adjust, receive, seedCatalogue } from '../helpers/inventory';

let t: TestApp;
let publisher: EventPublisher;
let tap: EventTap;
let api: ReturnType<typeof inventoryApi>;
let seenMessages = 0;
let seenRows = 0;

beforeAll(async () => {
  t = await startTestApp('stock_events', { broker: true });
  publisher = await createEventPublisher(t.amqp!, {
    exchange: t.config.EVENTS_EXCHANGE,
    logger: pino({ level: 'silent' }),
    declare: (channel) => declareEventsExchange(channel, t.config.EVENTS_EXCHANGE),
    confirmTimeoutMs: t.config.PUBLISH_CONFIRM_TIMEOUT_MS,
  });
  tap = await tapExchange(t.vhost!.url, t.config.EVENTS_EXCHANGE);
  api = inventoryApi(t.app);
  await seedCatalogue(t, { warehouses: ['wh-1', 'wh-2'], products: ['p-adj', 'p-res', 'p-alloc', 'p-exp', 'p-back', 'p-move', 'p-direct', 'p-job'] });
  await publishedSinceLastLook();
});
afterAll(async () => {
  await tap.close();
  await publisher.close();
  await t.close();
});

/**
 * Relays everything pending and returns the messages that arrived since the last look. The outbox
 * must have grown by exactly as many rows as arrived: one event per change, none twice.
 */
async function publishedSinceLastLook(): Promise<TappedMessage[]> {
  while ((await relayOutboxRound(t.db.pool, publisher, { batchSize: 100, retryBaseMs: 1000, retryMaxMs: 1000 })).claimed > 0);
  const { rows } = await t.db.pool.query('select count(*)::int as n from outbox_events');
  const fresh = rows[0].n - seenRows;
  const messages = (await tap.waitFor(seenMessages + fresh)).slice(seenMessages);
  seenRows = rows[0].n;
  seenMessages += messages.length;
  for (const message of messages) expect(inventoryEventSchema.safeParse(message.body).success).toBe(true);
  return messages;
}

const summary = (messages: TappedMessage[]) => messages.map((message) => [message.routingKey, message.body.type]);

async function reserve(productId: string, quantity: number, extra: Record<string, unknown> = {}) {
  const response = await api.reserve({ orderId: `ord-${uuidv7()}`, customerId: 'cust-1', items: [{ productId, quantity, warehouseId: 'wh-1' }], ...extra });
  expect([201, 202]).toContain(response.statusCode);
  return response.json();
}

describe('events of stock changes', () => {
  it('an adjustment publishes StockAdjusted per line; crossing the reorder point adds one LowStockAlert', async () => {
    const receipt = await adjust(t, [{ productId: 'p-adj', warehouseId: 'wh-1', quantity: 100, type: 'RECEIPT', reason: 'delivery', reference: 'PO-1' }]);
    expect(receipt.statusCode).toBe(200);
    let messages = await publishedSinceLastLook();
    expect(summary(messages)).toEqual([['inventory.stock_adjusted', 'StockAdjusted']]);
    expect(messages[0]!.body).toMatchObject({
      adjustmentId: receipt.json().adjustmentId,
      aggregateType: 'stock',
      aggregateId: 'p-adj@wh-1',
      productId: 'p-adj',
      warehouseId: 'wh-1',
      adjustmentType: 'RECEIPT',
      quantity: 100,
      previousStock: 0,
      newStock: 100,
      reason: 'delivery',
      reference: 'PO-1',
      adjustedBy: 'ops-1',
    });
    expect(messages[0]!.messageId).toBe(messages[0]!.body.eventId);

    const settings = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/inventory/settings',
      headers: admin,
      payload: { productId: 'p-adj', warehouseId: 'wh-1', reorderPoint: 30, reorderQuantity: 100, minStockLevel: 10 },
    });
    expect(settings.statusCode).toBe(200);
    expect(await publishedSinceLastLook()).toEqual([]);

    expect((await adjust(t, [{ productId: 'p-adj', warehouseId: 'wh-1', quantity: 75, type: 'WRITE_OFF', reason: 'damaged' }])).statusCode).toBe(200);
    messages = await publishedSinceLastLook();
    expect(summary(messages)).toEqual([
      ['inventory.stock_adjusted', 'StockAdjusted'],
      ['inventory.low_stock', 'LowStockAlert'],
    ]);
    expect(messages[0]!.body).toMatchObject({ adjustmentType: 'WRITE_OFF', quantity: -75, previousStock: 100, newStock: 25 });
    expect(messages[1]!.body).toMatchObject({ productId: 'p-adj', warehouseId: 'wh-1', currentStock: 25, reorderPoint: 30, severity: 'LOW' });

    // on from LOW to CRITICAL (under the minimum of 10): one more alert
    await reserve('p-adj', 20);
    messages = await publishedSinceLastLook();
    expect(summary(messages)).toEqual([
      ['inventory.reserved', 'InventoryReserved'],
      ['inventory.low_stock', 'LowStockAlert'],
    ]);
    expect(messages[1]!.body).toMatchObject({ currentStock: 5, severity: 'CRITICAL' });

    // still CRITICAL: a reservation alerts no more
    await reserve('p-adj', 1);
    expect(summary(await publishedSinceLastLook())).toEqual([['inventory.reserved', 'InventoryReserved']]);
  });

  it('reserve publishes InventoryReserved and release InventoryReleased, with the seed 002 payloads', async () => {
    await receive(t, 'p-res', 'wh-1', 10);
    await publishedSinceLastLook();
    const reservation = await reserve('p-res', 4);
    let messages = await publishedSinceLastLook();
    expect(summary(messages)).toEqual([['inventory.reserved', 'InventoryReserved']]);
    expect(messages[0]!.body).toEqual({
      eventId: messages[0]!.messageId,
      type: 'InventoryReserved',
      timestamp: expect.any(String),
      aggregateType: 'reservation',
      aggregateId: reservation.reservationId,
      reservationId: reservation.reservationId,
      orderId: reservation.orderId,
      customerId: 'cust-1',
      items: [{ productId: 'p-res', warehouseId: 'wh-1', quantity: 4 }],
      expiresAt: reservation.expiresAt,
    });

    const released = await api.release({ reservationId: reservation.reservationId, reason: 'Order cancelled' });
    expect(released.statusCode).toBe(200);
    messages = await publishedSinceLastLook();
    expect(summary(messages)).toEqual([['inventory.released', 'InventoryReleased']]);
    expect(messages[0]!.body).toMatchObject({
      reservationId: reservation.reservationId,
      orderId: reservation.orderId,
      items: [{ productId: 'p-res', warehouseId: 'wh-1', quantity: 4 }],
      reason: 'Order cancelled',
    });
  });

  it('allocating part of a reservation publishes InventoryAllocated and InventoryReleased for the rest; shipping publishes nothing', async () => {
    await receive(t, 'p-alloc', 'wh-1', 10);
    const reservation = await reserve('p-alloc', 5);
    await publishedSinceLastLook();

    const allocated = await api.allocate({ reservationId: reservation.reservationId, items: [{ productId: 'p-alloc', quantity: 3 }] });
    expect(allocated.statusCode).toBe(200);
    const messages = await publishedSinceLastLook();
    expect(summary(messages)).toEqual([
      ['inventory.allocated', 'InventoryAllocated'],
      ['inventory.released', 'InventoryReleased'],
    ]);
    expect(messages[0]!.body).toMatchObject({
      reservationId: reservation.reservationId,
      allocationId: null,
      orderId: reservation.orderId,
      items: [{ productId: 'p-alloc', warehouseId: 'wh-1', quantity: 3 }],
    });
    expect(messages[1]!.body).toMatchObject({ items: [{ productId: 'p-alloc', warehouseId: 'wh-1', quantity: 2 }], reason: 'not allocated' });

    expect((await api.ship({ reservationId: reservation.reservationId })).statusCode).toBe(200);
    expect(await publishedSinceLastLook()).toEqual([]);
  });

  it('allocating directly publishes InventoryAllocated', async () => {
    await receive(t, 'p-direct', 'wh-1', 10);
    await publishedSinceLastLook();
    const response = await api.allocate({ orderId: 'ord-direct', items: [{ productId: 'p-direct', quantity: 6 }] });
    expect(response.statusCode).toBe(201);
    const messages = await publishedSinceLastLook();
    expect(summary(messages)).toEqual([['inventory.allocated', 'InventoryAllocated']]);
    expect(messages[0]!.body).toMatchObject({
      reservationId: response.json().reservationId,
      orderId: 'ord-direct',
      items: [{ productId: 'p-direct', warehouseId: 'wh-1', quantity: 6 }],
    });
  });

  it('the expiry sweeper publishes ReservationExpired', async () => {
    await receive(t, 'p-exp', 'wh-1', 10);
    const reservation = await reserve('p-exp', 2, { timeoutMinutes: 1 });
    await publishedSinceLastLook();
    expect(await expireReservations(t.db.pool, { now: new Date(Date.now() + 2 * 60_000), batchSize: 10 })).toBe(1);
    const messages = await publishedSinceLastLook();
    expect(summary(messages)).toEqual([['inventory.reservation_expired', 'ReservationExpired']]);
    expect(messages[0]!.body).toMatchObject({
      reservationId: reservation.reservationId,
      orderId: reservation.orderId,
      items: [{ productId: 'p-exp', warehouseId: 'wh-1', quantity: 2 }],
      expiresAt: reservation.expiresAt,
    });
  });

  it('a backordered request publishes BackorderCreated, and the receipt that serves it BackorderFulfilled', async () => {
    const answer = await reserve('p-back', 8, { allowBackorder: true });
    expect(answer.status).toBe('BACKORDERED');
    let messages = await publishedSinceLastLook();
    expect(summary(messages)).toEqual([['inventory.backorder_created', 'BackorderCreated']]);
    const backorderId = answer.backorders[0].id;
    expect(messages[0]!.body).toMatchObject({
      backorderId,
      productId: 'p-back',
      warehouseId: 'wh-1',
      quantity: 8,
      reservationId: null,
      referenceId: answer.orderId,
    });

    await receive(t, 'p-back', 'wh-1', 5);
    messages = await publishedSinceLastLook();
    expect(summary(messages)).toEqual([
      ['inventory.stock_adjusted', 'StockAdjusted'],
      ['inventory.backorder_fulfilled', 'BackorderFulfilled'],
    ]);
    expect(messages[1]!.body).toMatchObject({
      backorderId,
      productId: 'p-back',
      quantity: 5,
      fulfilledQuantity: 5,
      remainingQuantity: 3,
      status: 'OPEN',
      referenceId: answer.orderId,
      items: [{ productId: 'p-back', warehouseId: 'wh-1', quantity: 5 }],
    });
    expect(messages[1]!.body.reservationId).toEqual(expect.any(String));
  });

  it('a transfer publishes TransferInitiated when it leaves and TransferReceived when it arrives', async () => {
    await receive(t, 'p-move', 'wh-1', 10);
    await receive(t, 'p-move', 'wh-1', 10);
    await publishedSinceLastLook();
    const sent = await t.app.inject({
      method: 'POST',
      url: '/api/v1/inventory/transfer',
      headers: admin,
      payload: { fromWarehouseId: 'wh-1', toWarehouseId: 'wh-2', items: [{ productId: 'p-move', quantity: 15 }], reference: 'balance' },
    });
    expect(sent.statusCode).toBe(201);
    const transferId = sent.json().transferId;
    let messages = await publishedSinceLastLook();
    expect(summary(messages)).toEqual([['inventory.transfer_initiated', 'TransferInitiated']]);
    expect(messages[0]!.body).toMatchObject({
      transferId,
      aggregateType: 'transfer',
      fromWarehouseId: 'wh-1',
      toWarehouseId: 'wh-2',
      items: [{ productId: 'p-move', quantity: 15 }],
      reference: 'balance',
      initiatedBy: 'ops-1',
    });

    const received = await t.app.inject({ method: 'POST', url: `/api/v1/inventory/transfers/${transferId}/receive`, headers: admin });
    expect(received.statusCode).toBe(200);
    messages = await publishedSinceLastLook();
    expect(summary(messages)).toEqual([['inventory.transfer_received', 'TransferReceived']]);
    expect(messages[0]!.body).toMatchObject({ transferId, items: [{ productId: 'p-move', quantity: 15 }], receivedBy: 'ops-1' });
  });

  it('an allocation job names itself in the events it causes', async () => {
    await receive(t, 'p-job', 'wh-1', 3);
    await publishedSinceLastLook();
    const accepted = await t.app.inject({
      method: 'POST',
      url: '/api/v1/allocations',
      headers: { ...admin, 'idempotency-key': 'job-events-1' },
      payload: {
        items: [{ productId: 'p-job', quantity: 5 }],
        mode: 'allocate',
        allowPartial: true,
        allowBackorder: true,
        referenceId: 'ORDER-J',
        referenceType: 'order',
      },
    });
    expect(accepted.statusCode).toBe(202);
    const { allocationId } = accepted.json();
    await runAllocationJobs(t.db.pool, t.config, [allocationId]);

    const messages = await publishedSinceLastLook();
    expect(summary(messages)).toEqual([
      ['inventory.allocated', 'InventoryAllocated'],
      ['inventory.backorder_created', 'BackorderCreated'],
    ]);
    expect(messages[0]!.body).toMatchObject({ allocationId, orderId: 'ORDER-J', items: [{ productId: 'p-job', warehouseId: 'wh-1', quantity: 3 }] });
    expect(messages[1]!.body).toMatchObject({ allocationId, productId: 'p-job', quantity: 2, referenceId: 'ORDER-J' });
  });

  it('a refused change publishes nothing', async () => {
    const refused = await adjust(t, [{ productId: 'p-res', warehouseId: 'wh-1', quantity: 1_000, type: 'WRITE_OFF', reason: 'too many' }]);
    expect(refused.statusCode).toBe(409);
    expect(await publishedSinceLastLook()).toEqual([]);
  });
});
