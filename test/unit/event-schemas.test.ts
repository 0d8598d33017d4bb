import { version as uuidVersion, validate as isUuid } from 'uuid';
import { z } from 'zod';
import { completeEvent } from '../../src/events/outbox';
import { inventoryEventSchema, orderEventSchema, routingKeys, type InventoryEventType, type NewEvent } from '../../src/events/schemas';

const reservationId = '0190f3a8-2c4b-7d2e-9a51-3f6c8b1e4d20';
const otherId = '0190f3a8-2c4b-7d2e-9a51-3f6c8b1e4d21';
const expiresAt = new Date('2024-01-15T10:15:00.123Z');
const line = { productId: 'p-1', warehouseId: 'wh-001', quantity: 2 };

/** One event of every type, as the use cases hand them to the outbox. */
const eventOfEveryType: { [T in InventoryEventType]: Extract<NewEvent, { type: T }> } = {
  InventoryReserved: { type: 'InventoryReserved', reservationId, orderId: 'ord-1', customerId: 'cust-1', items: [line], expiresAt },
  InventoryReleased: { type: 'InventoryReleased', reservationId, orderId: 'ord-1', items: [line], reason: null },
  InventoryAllocated: {
    type: 'InventoryAllocated',
    reservationId: null,
    allocationId: otherId,
    orderId: 'ord-1',
    items: [line, { ...line, warehouseId: 'wh-002' }],
  },
  ReservationExpired: { type: 'ReservationExpired', reservationId, orderId: 'ord-1', items: [line], expiresAt },
  ReservationTransferredOut: {
    type: 'ReservationTransferredOut',
    reservationId,
    orderId: 'ord-1',
    toReservationId: otherId,
    toOrderId: 'ord-2',
    items: [line],
    status: 'RELEASED',
    reason: 'split',
    transferredBy: 'svc',
  },
  ReservationTransferredIn: {
    type: 'ReservationTransferredIn',
    reservationId: otherId,
    orderId: 'ord-2',
    customerId: null,
    fromReservationId: reservationId,
    fromOrderId: 'ord-1',
    items: [line],
    expiresAt,
    reason: null,
    transferredBy: 'svc',
  },
  StockAdjusted: {
    type: 'StockAdjusted',
    adjustmentId: otherId,
    productId: 'p-1',
    warehouseId: 'wh-001',
    adjustmentType: 'WRITE_OFF',
    quantity: -3,
    previousStock: 10,
    newStock: 7,
    reason: 'damaged',
    reference: null,
    adjustedBy: 'svc',
  },
  LowStockAlert: { type: 'LowStockAlert', productId: 'p-1', warehouseId: 'wh-001', currentStock: 1, reorderPoint: 5, severity: 'CRITICAL' },
  BackorderCreated: {
    type: 'BackorderCreated',
    backorderId: otherId,
    productId: 'p-1',
    reservationId: null,
    allocationId: null,
    referenceType: 'order',
    referenceId: 'ord-1',
    warehouseId: null,
    quantity: 4,
    priority: 'high',
  },
  BackorderFulfilled: {
    type: 'BackorderFulfilled',
    backorderId: otherId,
    productId: 'p-1',
    reservationId,
    allocationId: null,
    referenceType: 'order',
    referenceId: 'ord-1',
    quantity: 4,
    fulfilledQuantity: 3,
    remainingQuantity: 1,
    status: 'OPEN',
    items: [line],
  },
  TransferInitiated: {
    type: 'TransferInitiated',
    transferId: otherId,
    fromWarehouseId: 'wh-001',
    toWarehouseId: 'wh-002',
    reference: 'T-1',
    items: [{ productId: 'p-1', quantity: 2 }],
    reason: null,
    expectedDelivery: expiresAt,
    initiatedBy: 'svc',
  },
  TransferReceived: {
    type: 'TransferReceived',
    transferId: otherId,
    fromWarehouseId: 'wh-001',
    toWarehouseId: 'wh-002',
    reference: null,
    status: 'PARTIALLY_RECEIVED',
    items: [{ productId: 'p-1', quantity: 1 }],
    shortages: [{ productId: 'p-1', quantity: 1 }],
    reason: 'one broken',
    receivedBy: 'svc',
  },
  TransferCancelled: {
    type: 'TransferCancelled',
    transferId: otherId,
    fromWarehouseId: 'wh-001',
    toWarehouseId: 'wh-002',
    reference: null,
    items: [{ productId: 'p-1', quantity: 2 }],
    reason: null,
    cancelledBy: 'svc',
  },
  WarehouseUpdated: {
    type: 'WarehouseUpdated',
    warehouseId: 'wh-001',
    changed: ['name', 'address'],
    warehouse: {
      code: 'wh-001',
      name: 'North',
      type: 'DC',
      priority: 2,
      latitude: 40.7,
      longitude: null,
      address: { city: 'New York' },
      premium: false,
      active: true,
    },
    updatedBy: 'admin',
  },
  ProductUpdated: {
    type: 'ProductUpdated',
    productId: 'p-1',
    changed: ['status'],
    product: { sku: 'SKU-1', name: 'Widget', status: 'DISCONTINUED', tracking: 'serial' },
    updatedBy: 'admin',
  },
  ConsistencyIssueDetected: {
    type: 'ConsistencyIssueDetected',
    findingId: otherId,
    kind: 'overdue_hold',
    subjectType: 'reservation',
    subjectId: reservationId,
    detail: { expiresAt: '2024-01-15T10:15:00.123Z', lines: [1, 2] },
    firstSeenAt: expiresAt,
  },
};
const everyEvent = Object.values(eventOfEveryType);

describe('inventory event schemas', () => {
  it('completes an event with a v7 eventId, a timestamp and its aggregate, and writes timestamps as ISO strings', () => {
    const now = new Date('2024-01-15T10:00:00Z');
    const { event, json } = completeEvent(
      {
        type: 'InventoryReserved',
        reservationId,
        orderId: 'ord-1',
        customerId: null,
        items: [{ productId: 'p-1', warehouseId: 'wh-001', quantity: 2 }],
        expiresAt: new Date('2024-01-15T10:15:00Z'),
      },
      now,
    );
    expect(isUuid(event.eventId) && uuidVersion(event.eventId)).toBe(7);
    expect(json).toEqual({
      eventId: event.eventId,
      type: 'InventoryReserved',
      timestamp: '2024-01-15T10:00:00.000Z',
      aggregateType: 'reservation',
      aggregateId: reservationId,
      reservationId,
      orderId: 'ord-1',
      customerId: null,
      items: [{ productId: 'p-1', warehouseId: 'wh-001', quantity: 2 }],
      expiresAt: '2024-01-15T10:15:00.000Z',
    });
    expect(inventoryEventSchema.parse(json)).toEqual(event);
  });

  it('refuses an event that breaks its schema', () => {
    expect(() =>
      completeEvent({
        type: 'LowStockAlert',
        productId: 'p-1',
        warehouseId: 'wh-1',
        currentStock: 1,
        reorderPoint: -1,
        severity: 'LOW',
      }),
    ).toThrow();
  });

  it('has an event of every type to check encodings against', () => {
    expect(everyEvent.map((event) => event.type).sort()).toEqual(inventoryEventSchema.options.map((option) => option.shape.type.value).sort());
  });

  it.each(everyEvent)('writes $type as the union of all events encodes it, as plain JSON that reads back', (event) => {
    const now = new Date('2024-01-15T10:00:00Z');
    const { event: completed, json } = completeEvent({ ...event, eventId: reservationId }, now);
    expect(JSON.stringify(json)).toBe(JSON.stringify(z.encode(inventoryEventSchema, completed)));
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    expect(json).toMatchObject({ eventId: reservationId, timestamp: '2024-01-15T10:00:00.000Z' });
    expect(inventoryEventSchema.parse(json)).toEqual(completed);
  });

  it.each(everyEvent)('leaves out of $type what its schema does not name', (event) => {
    const { json } = completeEvent(Object.assign({ unnamed: 'dropped' }, event));
    expect(json).not.toHaveProperty('unnamed');
  });

  it.each(everyEvent)('refuses $type with an eventId that is not a UUID, or with an invalid date', (event) => {
    expect(() => completeEvent({ ...event, eventId: 'not-a-uuid' })).toThrow(z.ZodError);
    expect(() => completeEvent({ ...event, timestamp: new Date(Number.NaN) })).toThrow(z.ZodError);
  });

  it('names a routing key under inventory. for every event type', () => {
    expect(Object.keys(routingKeys)).toHaveLength(inventoryEventSchema.options.length);
    for (const key of Object.values(routingKeys)) expect(key).toMatch(/^inventory\.[a-z_]+$/);
  });
});

describe('consumed order events', () => {
  it('reads an OrderCreated with the defaults of POST /inventory/reserve and ignores fields it does not know', () => {
    const parsed = orderEventSchema.parse({
      eventId: 'ev-1',
      type: 'OrderCreated',
      orderId: 'ord-1',
      items: [{ productId: 'p-1', quantity: 2 }],
      somethingElse: true,
    });
    expect(parsed).toEqual({
      eventId: 'ev-1',
      type: 'OrderCreated',
      orderId: 'ord-1',
      items: [{ productId: 'p-1', quantity: 2 }],
      strategy: 'fifo',
      allowPartial: false,
      allowBackorder: false,
      priority: 'medium',
    });
  });

  it('refuses an OrderCreated without items, with a zero quantity, or nearest_location without a destination', () => {
    const created = { eventId: 'ev-1', type: 'OrderCreated', orderId: 'o' };
    expect(orderEventSchema.safeParse({ ...created, items: [] }).success).toBe(false);
    expect(orderEventSchema.safeParse({ ...created, items: [{ productId: 'p', quantity: 0 }] }).success).toBe(false);
    expect(orderEventSchema.safeParse({ ...created, items: [{ productId: 'p', quantity: 1 }], strategy: 'nearest_location' }).success).toBe(false);
  });

  it('refuses an event of a type it does not consume', () => {
    expect(orderEventSchema.safeParse({ eventId: 'ev-1', type: 'OrderShipped', orderId: 'o' }).success).toBe(false);
  });
});
