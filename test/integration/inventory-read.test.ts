import { withTransaction } from '../../src/db/client';
import { commitWrites } from '../../src/db/writes';
import { startTestApp, type TestApp } from '../helpers/app';
import { adjust, admin, receive, seedCatalogue, service } from '../helpers/inventory';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('inventory-read');
  await seedCatalogue(t, { warehouses: ['wh-1', 'wh-2'], products: ['p-avail', 'p-expiry', 'p-closed', 'p-none', 'p-level', 'p-ledger', 'low-stock'] });
  const closed = await t.app.inject({
    method: 'POST',
    url: '/api/v1/warehouses',
    headers: admin,
    payload: { id: 'wh-closed', code: 'CLOSED', name: 'Closed', active: false },
  });
  expect(closed.statusCode).toBe(201);
});
afterAll(async () => t.close());

async function hold(lotId: string, reserved: number, allocated = 0) {
  await withTransaction(t.db.pool, (tx) =>
    commitWrites(tx, {
      movements: [
        { lotId, type: 'RESERVE', reservedDelta: reserved + allocated, actor: 'test' },
        ...(allocated > 0 ? [{ lotId, type: 'ALLOCATE' as const, reservedDelta: -allocated, allocatedDelta: allocated, actor: 'test' }] : []),
      ],
    }),
  );
}

async function checkAvailability(items: unknown[], headers = service) {
  return t.app.inject({ method: 'POST', url: '/api/v1/inventory/check-availability', headers, payload: { items } });
}

describe('POST /inventory/check-availability', () => {
  beforeAll(async () => {
    const lot = await receive(t, 'p-avail', 'wh-1', 20);
    await hold(lot, 3, 2);
    await receive(t, 'p-avail', 'wh-2', 25);
  });

  it('answers AVAILABLE, PARTIAL or OUT_OF_STOCK per item with a per-warehouse breakdown', async () => {
    const response = await checkAvailability([
      { productId: 'p-avail', quantity: 40 },
      { productId: 'p-avail', quantity: 41 },
      { productId: 'p-none', quantity: 1 },
    ]);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.available).toBe(false);
    expect(body.items.map((item: { status: string }) => item.status)).toEqual(['AVAILABLE', 'PARTIAL', 'OUT_OF_STOCK']);
    expect(body.items[0]).toEqual({
      productId: 'p-avail',
      requestedQuantity: 40,
      availableQuantity: 40,
      status: 'AVAILABLE',
      warehouses: [
        {
          warehouseId: 'wh-1',
          active: true,
          quantityOnHand: 20,
          quantityReserved: 3,
          quantityAllocated: 2,
          quantityExpired: 0,
          quantityAvailable: 15,
          availableQuantity: 15,
        },
        {
          warehouseId: 'wh-2',
          active: true,
          quantityOnHand: 25,
          quantityReserved: 0,
          quantityAllocated: 0,
          quantityExpired: 0,
          quantityAvailable: 25,
          availableQuantity: 25,
        },
      ],
    });
    expect(body.items[2]).toMatchObject({ availableQuantity: 0, warehouses: [] });
  });

  it('answers available: true when every item is available', async () => {
    const response = await checkAvailability([{ productId: 'p-avail', quantity: 1 }]);
    expect(response.json()).toMatchObject({ available: true, items: [{ status: 'AVAILABLE' }] });
  });

  it('counts only the pinned warehouse when an item names one', async () => {
    const response = await checkAvailability([
      { productId: 'p-avail', quantity: 16, warehouseId: 'wh-1' },
      { productId: 'p-avail', quantity: 25, warehouseId: 'wh-2' },
      { productId: 'p-avail', quantity: 1, warehouseId: 'wh-closed' },
    ]);
    const items = response.json().items;
    expect(items[0]).toMatchObject({ warehouseId: 'wh-1', availableQuantity: 15, status: 'PARTIAL' });
    expect(items[0].warehouses.map((w: { warehouseId: string }) => w.warehouseId)).toEqual(['wh-1']);
    expect(items[1]).toMatchObject({ warehouseId: 'wh-2', availableQuantity: 25, status: 'AVAILABLE' });
    expect(items[2]).toMatchObject({ availableQuantity: 0, status: 'OUT_OF_STOCK' });
  });

  it('does not count expired lots (expiry at or before now) as available', async () => {
    await receive(t, 'p-expiry', 'wh-1', 10, { expiresAt: '2020-01-01T00:00:00Z' });
    await receive(t, 'p-expiry', 'wh-1', 4, { expiresAt: '2999-01-01T00:00:00Z' });
    const response = await checkAvailability([{ productId: 'p-expiry', quantity: 5 }]);
    expect(response.json().items[0]).toMatchObject({
      availableQuantity: 4,
      status: 'PARTIAL',
      warehouses: [{ warehouseId: 'wh-1', quantityOnHand: 14, quantityExpired: 10, quantityAvailable: 4 }],
    });
  });

  it('does not count stock in an inactive warehouse as available', async () => {
    await receive(t, 'p-closed', 'wh-closed', 10);
    const response = await checkAvailability([{ productId: 'p-closed', quantity: 1 }]);
    expect(response.json().items[0]).toMatchObject({
      availableQuantity: 0,
      status: 'OUT_OF_STOCK',
      warehouses: [{ warehouseId: 'wh-closed', active: false, quantityOnHand: 10, quantityAvailable: 0 }],
    });
  });

  it.each([
    ['no items', []],
    ['a zero quantity', [{ productId: 'p-avail', quantity: 0 }]],
    ['a fractional quantity', [{ productId: 'p-avail', quantity: 0.5 }]],
    ['an unknown field', [{ productId: 'p-avail', quantity: 1, colour: 'red' }]],
    ['a missing productId', [{ quantity: 1 }]],
  ])('answers 400 to %s', async (_name, items) => {
    const response = await checkAvailability(items);
    expect(response.statusCode).toBe(400);
    expect(response.json().error.details.issues.length).toBeGreaterThan(0);
  });

  it('needs a token', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/inventory/check-availability',
      payload: { items: [{ productId: 'p-avail', quantity: 1 }] },
    });
    expect(response.statusCode).toBe(401);
  });
});

describe('GET /inventory/:productId', () => {
  let oldLot: string;
  let freshLot: string;
  beforeAll(async () => {
    // A lot received two days ago: written straight to the table, because ledger rows carry the time of their transaction.
    oldLot = '01890a5d-ac96-774b-bcce-b302099a8057';
    await t.db.pool.query(
      `insert into inventory_items (id, product_id, warehouse_id, lot_number, quantity, received_at, unit_cost) values ($1, 'p-level', 'wh-1', 'OLD', 30, now() - interval '2 days', 1.5)`,
      [oldLot],
    );
    await t.db.pool.query(
      `insert into inventory_transactions (lot_id, product_id, warehouse_id, type, quantity_delta, quantity_after, reserved_after, allocated_after, actor, created_at)
       values ($1, 'p-level', 'wh-1', 'RECEIPT', 30, 30, 0, 0, 'test', now() - interval '2 days')`,
      [oldLot],
    );
    freshLot = await receive(t, 'p-level', 'wh-1', 12, { lotNumber: 'NEW', expiresAt: '2999-01-01T00:00:00Z' });
    await hold(freshLot, 2);
    await receive(t, 'p-level', 'wh-2', 8);
    await adjust(t, [
      { productId: 'p-level', warehouseId: 'wh-2', quantity: 8, type: 'SHIPMENT', reason: 'sold' },
      { productId: 'p-level', warehouseId: 'wh-1', quantity: -1, type: 'ADJUSTMENT', reason: 'recount', lotId: oldLot },
      { productId: 'p-level', warehouseId: 'wh-1', quantity: 2, type: 'WRITE_OFF', reason: 'broken', lotId: oldLot },
    ]);
    const settings = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/inventory/settings',
      headers: admin,
      payload: {
        productId: 'p-level',
        warehouseId: 'wh-1',
        reorderPoint: 10,
        reorderQuantity: 50,
        minStockLevel: 5,
        location: { zone: 'A', aisle: '12', shelf: 'B3' },
      },
    });
    expect(settings.statusCode).toBe(200);
  });

  it('shows totals, and per warehouse the quantities, settings, bin location and lots with stock', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/v1/inventory/p-level', headers: service });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      productId: 'p-level',
      sku: 'SKU-p-level',
      name: 'Product p-level',
      totalQuantity: 39,
      totalReserved: 2,
      totalAllocated: 0,
      totalExpired: 0,
      totalAvailable: 37,
    });
    expect(body.warehouses).toHaveLength(2);
    expect(body.warehouses[0]).toMatchObject({
      warehouseId: 'wh-1',
      warehouseName: 'Warehouse wh-1',
      quantityOnHand: 39,
      quantityReserved: 2,
      quantityAvailable: 37,
      reorderPoint: 10,
      reorderQuantity: 50,
      minStockLevel: 5,
      maxStockLevel: null,
      location: { zone: 'A', aisle: '12', shelf: 'B3' },
    });
    expect(body.warehouses[0].lots).toEqual([
      expect.objectContaining({ lotId: oldLot, lotNumber: 'OLD', quantity: 27, availableQuantity: 27, unitCost: 1.5, expiresAt: null, expired: false }),
      expect.objectContaining({
        lotId: freshLot,
        lotNumber: 'NEW',
        quantity: 12,
        reservedQuantity: 2,
        availableQuantity: 10,
        expiresAt: '2999-01-01T00:00:00.000Z',
      }),
    ]);
    // wh-2 shipped everything: still listed, with no lots holding stock and no settings
    expect(body.warehouses[1]).toMatchObject({ warehouseId: 'wh-2', quantityOnHand: 0, reorderPoint: null, location: null, lots: [] });
  });

  it('lists the movements of the last 24 hours only, with totals by kind', async () => {
    const body = (await t.app.inject({ method: 'GET', url: '/api/v1/inventory/p-level', headers: service })).json();
    const recent = body.movements.last24Hours;
    expect(recent).toMatchObject({ received: 20, shipped: 8, adjusted: -3, truncated: false });
    expect(recent.byType).toEqual([
      { type: 'ADJUSTMENT', count: 1, quantityDelta: -1 },
      { type: 'RECEIPT', count: 2, quantityDelta: 20 },
      { type: 'RESERVE', count: 1, quantityDelta: 0 },
      { type: 'SHIPMENT', count: 1, quantityDelta: -8 },
      { type: 'WRITE_OFF', count: 1, quantityDelta: -2 },
    ]);
    expect(recent.items).toHaveLength(6);
    expect(recent.items.some((m: { quantityDelta: number; type: string; lotId: string }) => m.lotId === oldLot && m.type === 'RECEIPT')).toBe(false);
    expect(Date.parse(body.lastMovementAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(body.lastUpdated).toBe(body.lastMovementAt);
  });

  it('narrows to one warehouse with ?warehouseId', async () => {
    const body = (await t.app.inject({ method: 'GET', url: '/api/v1/inventory/p-level?warehouseId=wh-2', headers: service })).json();
    expect(body.warehouses.map((w: { warehouseId: string }) => w.warehouseId)).toEqual(['wh-2']);
    expect(body.totalQuantity).toBe(0);
    expect(body.movements.last24Hours).toMatchObject({ received: 8, shipped: 8 });
  });

  it('answers 404 for an unknown product and 400 for a malformed id', async () => {
    const unknown = await t.app.inject({ method: 'GET', url: '/api/v1/inventory/p-unknown', headers: service });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('NOT_FOUND');
    const malformed = await t.app.inject({ method: 'GET', url: `/api/v1/inventory/${'x'.repeat(65)}`, headers: service });
    expect(malformed.statusCode).toBe(400);
  });

  it('serves /inventory/low-stock as the low-stock list, even with a product of that id', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/v1/inventory/low-stock', headers: service });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toHaveProperty('criticalItems');
    expect(response.json()).not.toHaveProperty('productId');
  });
});

describe('GET /inventory/:productId/movements', () => {
  beforeAll(async () => {
    await receive(t, 'p-ledger', 'wh-1', 10);
    await receive(t, 'p-ledger', 'wh-2', 10);
    for (let i = 0; i < 3; i += 1) await adjust(t, [{ productId: 'p-ledger', warehouseId: 'wh-1', quantity: 1, type: 'SHIPMENT', reason: `sale ${i}` }]);
    await adjust(t, [{ productId: 'p-ledger', warehouseId: 'wh-2', quantity: 2, type: 'WRITE_OFF', reason: 'broken' }]);
  });

  const list = (query = '') => t.app.inject({ method: 'GET', url: `/api/v1/inventory/p-ledger/movements${query}`, headers: service });

  it('lists the ledger newest first', async () => {
    const body = (await list()).json();
    expect(body.items.map((m: { type: string; quantityDelta: number }) => [m.type, m.quantityDelta])).toEqual([
      ['WRITE_OFF', -2],
      ['SHIPMENT', -1],
      ['SHIPMENT', -1],
      ['SHIPMENT', -1],
      ['RECEIPT', 10],
      ['RECEIPT', 10],
    ]);
    expect(body.items[0]).toMatchObject({
      productId: 'p-ledger',
      warehouseId: 'wh-2',
      quantityAfter: 8,
      reason: 'broken',
      referenceType: 'adjustment',
      actor: 'ops-1',
    });
    expect(body.nextCursor).toBeNull();
  });

  it('pages with limit and the cursor of the previous page, without gaps or repeats', async () => {
    const all = (await list()).json().items.map((m: { movementId: number }) => m.movementId);
    const seen: number[] = [];
    let cursor: number | null = null;
    let pages = 0;
    do {
      const response = await list(`?limit=4${cursor === null ? '' : `&cursor=${cursor}`}`);
      const body: { items: { movementId: number }[]; nextCursor: number | null } = response.json();
      seen.push(...body.items.map((m) => m.movementId));
      cursor = body.nextCursor;
      pages += 1;
    } while (cursor !== null);
    expect(pages).toBe(2);
    expect(seen).toEqual(all);
  });

  it('filters by type (one or a comma-separated list) and by warehouse', async () => {
    const shipments = (await list('?type=SHIPMENT')).json().items;
    expect(shipments).toHaveLength(3);
    const mixed = (await list('?type=RECEIPT,WRITE_OFF')).json().items;
    expect(mixed.map((m: { type: string }) => m.type).sort()).toEqual(['RECEIPT', 'RECEIPT', 'WRITE_OFF']);
    const atWh2 = (await list('?warehouseId=wh-2')).json().items;
    expect(atWh2.map((m: { type: string }) => m.type)).toEqual(['WRITE_OFF', 'RECEIPT']);
  });

  it('filters by time: from inclusive, to exclusive', async () => {
    const future = new Date(Date.now() + 60_000).toISOString();
    const past = new Date(Date.now() - 60_000).toISOString();
    expect((await list(`?from=${future}`)).json().items).toEqual([]);
    expect((await list(`?from=${past}&to=${future}`)).json().items).toHaveLength(6);
    expect((await list(`?to=${past}`)).json().items).toEqual([]);
    const levelLedger = await t.app.inject({
      method: 'GET',
      url: `/api/v1/inventory/p-level/movements?to=${new Date(Date.now() - 24 * 3600_000).toISOString()}`,
      headers: service,
    });
    expect(levelLedger.json().items.map((m: { quantityDelta: number }) => m.quantityDelta)).toEqual([30]);
  });

  it.each([
    ['an unknown type', '?type=STEAL'],
    ['a zero limit', '?limit=0'],
    ['a limit over 500', '?limit=501'],
    ['a malformed from', '?from=yesterday'],
    ['from after to', `?from=2024-02-01T00:00:00Z&to=2024-01-01T00:00:00Z`],
    ['an unknown parameter', '?colour=red'],
  ])('answers 400 to %s', async (_name, query) => {
    const response = await list(query);
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('VALIDATION_FAILED');
  });

  it('answers 404 for an unknown product', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/v1/inventory/p-unknown/movements', headers: service });
    expect(response.statusCode).toBe(404);
  });
});
