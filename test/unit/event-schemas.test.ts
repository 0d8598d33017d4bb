import { version as uuidVersion, validate as isUuid } from 'uuid';
import { completeEvent } from '../../src/events/outbox';
import { inventoryEventSchema, orderEventSchema, routingKeys } from '../../src/events/schemas';

const reservationId = '0190f3a8-2c4b-7d2e-9a51-3f6c8b1e4d20';

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
