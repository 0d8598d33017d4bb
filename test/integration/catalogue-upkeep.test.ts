import type { LightMyRequestResponse } from 'fastify';
import { serve } from '../../src/inventory/engine';
import { withTransaction } from '../../src/db/client';
import { startTestApp, type TestApp } from '../helpers/app';
import { inventoryApi } from '../helpers/inventory-api';
import { expectBooksBalanced, lotsOf, receiveLots, seedCatalogue } from '../helpers/stock';
import { bearer } from '../helpers/tokens';

let t: TestApp;
let api: ReturnType<typeof inventoryApi>;
const admin = bearer('admin', 'ops-1');
const service = bearer('service', 'checkout');

beforeAll(async () => {
  t = await startTestApp('catalogue_upkeep');
  api = inventoryApi(t.app);
  await seedCatalogue(t.db.pool, {
    warehouses: [{ id: 'cu-wh-main' }, { id: 'cu-wh-spare' }, { id: 'cu-wh-edit' }],
    products: ['cu-closing', 'cu-old', 'cu-other', 'cu-edit', 'cu-taken'],
  });
  await receiveLots(t.db.pool, [
    { productId: 'cu-closing', warehouseId: 'cu-wh-main', quantity: 10, receivedAt: new Date('2026-01-01T00:00:00Z') },
    { productId: 'cu-closing', warehouseId: 'cu-wh-spare', quantity: 10, receivedAt: new Date('2026-02-01T00:00:00Z') },
    { productId: 'cu-old', warehouseId: 'cu-wh-spare', quantity: 30 },
    { productId: 'cu-other', warehouseId: 'cu-wh-spare', quantity: 30 },
  ]);
});
afterAll(async () => t.close());
afterEach(async () => expectBooksBalanced(t.db.pool));

const patch = (url: string, payload: object, headers: Record<string, string> = admin): Promise<LightMyRequestResponse> =>
  t.app.inject({ method: 'PATCH', url: `/api/v1${url}`, headers, payload });

async function eventsOf(eventType: string, aggregateId: string): Promise<{ routing_key: string; aggregate_type: string; payload: Record<string, unknown> }[]> {
  const { rows } = await t.db.pool.query(
    `select routing_key, aggregate_type, payload from outbox_events where event_type = $1 and aggregate_id = $2 order by id`,
    [eventType, aggregateId],
  );
  return rows;
}

async function reserve(orderId: string, items: object[]): Promise<LightMyRequestResponse> {
  return api.reserve({ orderId, items });
}

describe('PATCH /warehouses/:id', () => {
  const address = { line1: '1 Dock Road', city: 'Hamburg', postalCode: '20457', country: 'DE' };

  it('changes the fields given, keeps the others, and writes WarehouseUpdated with what changed', async () => {
    const response = await patch('/warehouses/cu-wh-edit', {
      name: 'Hamburg port',
      type: 'SECONDARY',
      priority: 7,
      latitude: 53.54,
      longitude: 9.98,
      address,
      premium: true,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      id: 'cu-wh-edit',
      code: 'cu-wh-edit',
      name: 'Hamburg port',
      type: 'SECONDARY',
      priority: 7,
      latitude: 53.54,
      longitude: 9.98,
      address,
      premium: true,
      active: true,
    });
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/warehouses/cu-wh-edit', headers: service })).json()).toEqual(response.json());

    const events = await eventsOf('WarehouseUpdated', 'cu-wh-edit');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      routing_key: 'inventory.warehouse_updated',
      aggregate_type: 'warehouse',
      payload: {
        type: 'WarehouseUpdated',
        warehouseId: 'cu-wh-edit',
        changed: ['name', 'type', 'priority', 'latitude', 'longitude', 'address', 'premium'],
        warehouse: { code: 'cu-wh-edit', name: 'Hamburg port', type: 'SECONDARY', priority: 7, address, premium: true, active: true },
        updatedBy: 'ops-1',
      },
    });
  });

  it('writes nothing for a change that changes nothing, and clears the location and the address with null', async () => {
    const before = (await t.app.inject({ method: 'GET', url: '/api/v1/warehouses/cu-wh-edit', headers: service })).json();
    const same = await patch('/warehouses/cu-wh-edit', { name: before.name, address: { ...address } });
    expect(same.statusCode).toBe(200);
    expect(same.json().updatedAt).toBe(before.updatedAt);
    expect(await eventsOf('WarehouseUpdated', 'cu-wh-edit')).toHaveLength(1);

    const cleared = await patch('/warehouses/cu-wh-edit', { latitude: null, longitude: null, address: null });
    expect(cleared.json()).toMatchObject({ latitude: null, longitude: null, address: null, name: 'Hamburg port' });
    const events = await eventsOf('WarehouseUpdated', 'cu-wh-edit');
    expect(events.map((event) => event.payload.changed)).toEqual([expect.any(Array), ['latitude', 'longitude', 'address']]);
  });

  it.each([
    ['an empty body', {}],
    ['latitude without longitude', { latitude: 10 }],
    ['only one coordinate cleared', { latitude: null, longitude: 10 }],
    ['an unknown field', { code: 'NEW' }],
    ['an unknown type', { type: 'WAREHOUSE' }],
    ['an address without a country code', { address: { line1: 'x', city: 'y', country: 'Germany' } }],
    ['a priority out of range', { priority: 5000 }],
  ])('refuses %s with 400 and changes nothing', async (_name, body) => {
    const before = (await t.app.inject({ method: 'GET', url: '/api/v1/warehouses/cu-wh-edit', headers: service })).json();
    const response = await patch('/warehouses/cu-wh-edit', body);
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('VALIDATION_FAILED');
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/warehouses/cu-wh-edit', headers: service })).json()).toEqual(before);
  });

  it('is for admins only, and answers 404 for an unknown warehouse', async () => {
    const refused = await patch('/warehouses/cu-wh-edit', { name: 'x' }, service);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('FORBIDDEN');
    const missing = await patch('/warehouses/cu-wh-none', { name: 'x' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('NOT_FOUND');
  });

  it('registers a warehouse with an address', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/warehouses',
      headers: admin,
      payload: { id: 'cu-wh-new', code: 'CU-NEW', name: 'New', type: 'MAIN', address },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ type: 'MAIN', address });
  });
});

describe('a deactivated warehouse', () => {
  let held: string;

  beforeAll(async () => {
    // a hold taken at cu-wh-main (its lot is the oldest) before the site closes
    const response = await reserve('cu-before-close', [{ productId: 'cu-closing', quantity: 4, warehouseId: 'cu-wh-main' }]);
    expect(response.statusCode).toBe(201);
    held = response.json().reservationId;
    const closed = await patch('/warehouses/cu-wh-main', { active: false });
    expect(closed.json()).toMatchObject({ active: false });
  });

  it('serves no new reservation: they are served by the other warehouses', async () => {
    const response = await reserve('cu-after-close', [{ productId: 'cu-closing', quantity: 5 }]);
    expect(response.statusCode).toBe(201);
    expect(response.json().items.map((item: { warehouseId: string }) => item.warehouseId)).toEqual(['cu-wh-spare']);
    await api.release({ reservationId: response.json().reservationId });

    const pinned = await reserve('cu-pinned', [{ productId: 'cu-closing', quantity: 1, warehouseId: 'cu-wh-main' }]);
    expect(pinned.statusCode).toBe(409);
    expect(pinned.json().error.code).toBe('INSUFFICIENT_STOCK');
  });

  it('says so in availability: active false, nothing available there', async () => {
    const response = await api.call('POST', '/inventory/check-availability', { items: [{ productId: 'cu-closing', quantity: 11 }] });
    const item = response.json().items[0];
    expect(item).toMatchObject({ availableQuantity: 10, status: 'PARTIAL' });
    expect(item.warehouses).toEqual([
      expect.objectContaining({ warehouseId: 'cu-wh-main', active: false, quantityOnHand: 10, quantityReserved: 4, availableQuantity: 0 }),
      expect.objectContaining({ warehouseId: 'cu-wh-spare', active: true, availableQuantity: 10 }),
    ]);
  });

  it('still allocates and ships what it held before', async () => {
    expect((await api.allocate({ reservationId: held })).statusCode).toBe(200);
    const shipped = await api.ship({ reservationId: held });
    expect(shipped.statusCode).toBe(200);
    expect(shipped.json().status).toBe('FULFILLED');
    expect((await lotsOf(t.db.pool, 'cu-closing')).map((lot) => lot.quantity).sort()).toEqual([10, 6]);
  });

  it('serves again once active', async () => {
    expect((await patch('/warehouses/cu-wh-main', { active: true })).json().active).toBe(true);
    const response = await reserve('cu-reopened', [{ productId: 'cu-closing', quantity: 1, warehouseId: 'cu-wh-main' }]);
    expect(response.statusCode).toBe(201);
    const events = await eventsOf('WarehouseUpdated', 'cu-wh-main');
    expect(events.map((event) => [event.payload.changed, (event.payload.warehouse as { active: boolean }).active])).toEqual([
      [['active'], false],
      [['active'], true],
    ]);
  });
});

describe('PATCH /products/:id', () => {
  it('changes sku, name and status and writes ProductUpdated', async () => {
    const response = await patch('/products/cu-edit', { sku: 'CU-EDIT-2', name: 'Edited' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ id: 'cu-edit', sku: 'CU-EDIT-2', name: 'Edited', status: 'ACTIVE' });
    const events = await eventsOf('ProductUpdated', 'cu-edit');
    expect(events).toEqual([
      expect.objectContaining({
        routing_key: 'inventory.product_updated',
        aggregate_type: 'product',
        payload: expect.objectContaining({
          productId: 'cu-edit',
          changed: ['sku', 'name'],
          product: { sku: 'CU-EDIT-2', name: 'Edited', status: 'ACTIVE', tracking: 'lot' },
          updatedBy: 'ops-1',
        }),
      }),
    ]);
  });

  it('refuses a sku another product has with 409, and bad input with 400, changing nothing', async () => {
    const taken = await patch('/products/cu-edit', { sku: 'cu-taken' });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error.code).toBe('ALREADY_EXISTS');
    for (const body of [{}, { status: 'GONE' }, { id: 'cu-x' }]) {
      const response = await patch('/products/cu-edit', body);
      expect(response.statusCode).toBe(400);
    }
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/products/cu-edit', headers: service })).json()).toMatchObject({ sku: 'CU-EDIT-2' });
    expect(await eventsOf('ProductUpdated', 'cu-edit')).toHaveLength(1);
    expect((await patch('/products/cu-edit', { status: 'DISCONTINUED' }, service)).statusCode).toBe(403);
    expect((await patch('/products/cu-none', { name: 'x' })).statusCode).toBe(404);
  });
});

describe('a discontinued product', () => {
  let toAllocate: string;
  let toRelease: string;

  beforeAll(async () => {
    toAllocate = (await reserve('cu-old-1', [{ productId: 'cu-old', quantity: 3 }])).json().reservationId;
    toRelease = (await reserve('cu-old-2', [{ productId: 'cu-old', quantity: 2 }])).json().reservationId;
    const response = await patch('/products/cu-old', { status: 'DISCONTINUED' });
    expect(response.json()).toMatchObject({ status: 'DISCONTINUED' });
  });

  it('takes no new reservation or direct allocation: 409 PRODUCT_DISCONTINUED, nothing held', async () => {
    const before = await lotsOf(t.db.pool, 'cu-old');
    for (const response of [
      await reserve('cu-old-3', [{ productId: 'cu-old', quantity: 1 }]),
      await reserve('cu-old-4', [
        { productId: 'cu-other', quantity: 1 },
        { productId: 'cu-old', quantity: 1 },
      ]),
      await api.allocate({ orderId: 'cu-old-5', items: [{ productId: 'cu-old', quantity: 1 }], allowBackorder: true }),
    ]) {
      expect(response.statusCode).toBe(409);
      expect(response.json().error).toEqual({
        code: 'PRODUCT_DISCONTINUED',
        message: 'Discontinued products take no new reservations: cu-old',
        details: { discontinuedProducts: ['cu-old'] },
      });
    }
    expect(await lotsOf(t.db.pool, 'cu-old')).toEqual(before);
    expect((await lotsOf(t.db.pool, 'cu-other'))[0]!.reserved).toBe(0);
    const { rows } = await t.db.pool.query(`select count(*)::int as n from reservations where order_id like 'cu-old-_' and order_id > 'cu-old-2'`);
    expect(rows[0].n).toBe(0);
  });

  it('fails the lines of a queued job, naming why, and backorders nothing', async () => {
    const served = await withTransaction(t.db.pool, (tx) =>
      serve(
        tx,
        [
          {
            key: 'job-1',
            mode: 'reserve',
            lines: [
              { productId: 'cu-old', quantity: 1 },
              { productId: 'cu-other', quantity: 1 },
            ],
            strategy: 'fifo',
            priority: 'medium',
            allowPartial: true,
            allowBackorder: true,
            owner: 'test',
            orderId: 'cu-job-1',
            referenceType: 'order',
            actor: 'test',
          },
        ],
        { now: new Date(), config: t.config },
      ),
    );
    const [outcome] = served.outcomes;
    expect(outcome).toMatchObject({
      outcome: 'partial',
      failedLines: [{ lineIndex: 0, productId: 'cu-old', reason: 'product_discontinued', availableQuantity: 0 }],
      backorders: [],
    });
  });

  it('keeps its existing reservations: they allocate, ship and release as ever', async () => {
    expect((await api.allocate({ reservationId: toAllocate })).statusCode).toBe(200);
    expect((await api.ship({ reservationId: toAllocate })).json().status).toBe('FULFILLED');
    expect((await api.release({ reservationId: toRelease })).json().status).toBe('RELEASED');
    expect(await lotsOf(t.db.pool, 'cu-old')).toEqual([expect.objectContaining({ quantity: 27, reserved: 0, allocated: 0 })]);
  });

  it('takes reservations again once ACTIVE', async () => {
    expect((await patch('/products/cu-old', { status: 'ACTIVE' })).json().status).toBe('ACTIVE');
    expect((await reserve('cu-old-6', [{ productId: 'cu-old', quantity: 1 }])).statusCode).toBe(201);
    const events = await eventsOf('ProductUpdated', 'cu-old');
    expect(events.map((event) => (event.payload.product as { status: string }).status)).toEqual(['DISCONTINUED', 'ACTIVE']);
  });
});
