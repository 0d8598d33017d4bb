import { withTransaction } from '../../src/db/client';
import { commitWrites } from '../../src/db/writes';
import { startTestApp, type TestApp } from '../helpers/app';
import { admin, receive, seedCatalogue, service } from '../helpers/inventory';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('inventory-low-stock');
  await seedCatalogue(t, {
    warehouses: ['wh-1', 'wh-2'],
    products: ['p-set', 'p-empty', 'p-under-min', 'p-low', 'p-plenty', 'p-expired', 'p-held', 'p-closed', 'p-moving'],
  });
  const closed = await t.app.inject({
    method: 'POST',
    url: '/api/v1/warehouses',
    headers: admin,
    payload: { id: 'wh-closed', code: 'CLOSED', name: 'Closed', active: false },
  });
  expect(closed.statusCode).toBe(201);
});
afterAll(async () => t.close());

const putSettings = (payload: object, headers = admin) => t.app.inject({ method: 'PUT', url: '/api/v1/inventory/settings', headers, payload });
const settingsRows = async () => (await t.db.pool.query('select * from stock_settings order by product_id, warehouse_id')).rows;

describe('PUT /inventory/settings', () => {
  const settings = {
    productId: 'p-set',
    warehouseId: 'wh-1',
    reorderPoint: 10,
    reorderQuantity: 50,
    minStockLevel: 2,
    maxStockLevel: 200,
    location: { zone: 'A', aisle: '12', shelf: 'B3' },
  };

  beforeAll(async () => {
    // well stocked, so that it never shows in the low-stock list below
    await receive(t, 'p-set', 'wh-1', 100);
  });

  it('creates the settings of a product at a warehouse, then replaces them as a whole', async () => {
    const created = await putSettings(settings);
    expect(created.statusCode).toBe(200);
    expect(created.json()).toMatchObject({ ...settings, updatedAt: expect.stringMatching(/Z$/) });

    const replaced = await putSettings({ productId: 'p-set', warehouseId: 'wh-1', reorderPoint: 5, reorderQuantity: 20, minStockLevel: 0 });
    expect(replaced.json()).toMatchObject({ reorderPoint: 5, reorderQuantity: 20, minStockLevel: 0, maxStockLevel: null, location: null });
    expect((await settingsRows()).filter((row) => row.product_id === 'p-set')).toHaveLength(1);
  });

  it.each([
    ['a maximum under the minimum', { ...settings, minStockLevel: 10, maxStockLevel: 9 }, 'maxStockLevel'],
    ['a negative reorder point', { ...settings, reorderPoint: -1 }, 'reorderPoint'],
    ['a fractional reorder quantity', { ...settings, reorderQuantity: 2.5 }, 'reorderQuantity'],
    ['a missing minimum', { ...settings, minStockLevel: undefined }, 'minStockLevel'],
    ['a location without a shelf', { ...settings, location: { zone: 'A', aisle: '1' } }, 'location.shelf'],
    ['an unknown field', { ...settings, colour: 'red' }, ''],
  ])('answers 400 to %s and stores nothing', async (_name, payload, path) => {
    const before = await settingsRows();
    const response = await putSettings({ ...payload, productId: 'p-empty' });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.details.issues.map((issue: { path: string }) => issue.path)).toContain(path);
    expect(await settingsRows()).toEqual(before);
  });

  it('answers 400 UNKNOWN_REFERENCE to an unknown product or warehouse', async () => {
    const response = await putSettings({ ...settings, productId: 'p-nope', warehouseId: 'wh-nope' });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'UNKNOWN_REFERENCE', details: { unknownProducts: ['p-nope'], unknownWarehouses: ['wh-nope'] } });
  });

  it('answers 403 to a service caller', async () => {
    const response = await putSettings(settings, service);
    expect(response.statusCode).toBe(403);
  });
});

describe('GET /inventory/low-stock', () => {
  beforeAll(async () => {
    const level = (productId: string, warehouseId: string, reorderPoint: number, minStockLevel: number, reorderQuantity = 40) =>
      putSettings({ productId, warehouseId, reorderPoint, reorderQuantity, minStockLevel });
    // nothing on hand at all
    await level('p-empty', 'wh-1', 10, 2);
    // 3 available, under its minimum of 5
    await receive(t, 'p-under-min', 'wh-1', 3);
    await level('p-under-min', 'wh-1', 10, 5);
    // 8 available: low, not critical
    await receive(t, 'p-low', 'wh-1', 8);
    await level('p-low', 'wh-1', 10, 2, 25);
    // 50 available: fine at wh-1; at wh-2 only 9
    await receive(t, 'p-plenty', 'wh-1', 50);
    await level('p-plenty', 'wh-1', 10, 2);
    await receive(t, 'p-plenty', 'wh-2', 9);
    await level('p-plenty', 'wh-2', 10, 2);
    // 30 on hand but all expired: nothing available
    await receive(t, 'p-expired', 'wh-1', 30, { expiresAt: '2020-01-01T00:00:00Z' });
    await level('p-expired', 'wh-1', 10, 2);
    // 30 on hand, 25 reserved: 5 available, at the minimum
    const held = await receive(t, 'p-held', 'wh-1', 30);
    await withTransaction(t.db.pool, (tx) => commitWrites(tx, { movements: [{ lotId: held, type: 'RESERVE', reservedDelta: 25, actor: 'test' }] }));
    await level('p-held', 'wh-1', 10, 5);
    // an inactive warehouse is never listed
    await level('p-closed', 'wh-closed', 10, 2);
  });

  const lowStock = async (query = '') => {
    const response = await t.app.inject({ method: 'GET', url: `/api/v1/inventory/low-stock${query}`, headers: service });
    expect(response.statusCode).toBe(200);
    return response.json();
  };
  const keys = (items: { productId: string; warehouseId: string; severity: string }[]) =>
    items.map((item) => `${item.productId}@${item.warehouseId}:${item.severity}`);

  it('lists products at or under their reorder point, critical first, counting only available unexpired stock', async () => {
    const body = await lowStock();
    expect(keys(body.items)).toEqual([
      'p-empty@wh-1:CRITICAL',
      'p-expired@wh-1:CRITICAL',
      'p-under-min@wh-1:CRITICAL',
      'p-held@wh-1:LOW',
      'p-low@wh-1:LOW',
      'p-plenty@wh-2:LOW',
    ]);
    expect(body).toMatchObject({ totalItems: 6, criticalItems: 3, lowItems: 3 });
    expect(body.items.find((item: { productId: string }) => item.productId === 'p-low')).toEqual({
      productId: 'p-low',
      productSku: 'SKU-p-low',
      productName: 'Product p-low',
      warehouseId: 'wh-1',
      warehouseName: 'Warehouse wh-1',
      currentStock: 8,
      quantityOnHand: 8,
      reorderPoint: 10,
      threshold: 10,
      minStockLevel: 2,
      percentageRemaining: 80,
      suggestedOrderQuantity: 25,
      daysOfSupply: null,
      severity: 'LOW',
      status: 'LOW',
    });
    expect(body.items.find((item: { productId: string }) => item.productId === 'p-expired')).toMatchObject({ currentStock: 0, quantityOnHand: 30 });
  });

  it('filters by warehouse', async () => {
    expect(keys((await lowStock('?warehouseId=wh-2')).items)).toEqual(['p-plenty@wh-2:LOW']);
  });

  it('uses a threshold in place of the reorder point when given', async () => {
    const body = await lowStock('?threshold=50&warehouseId=wh-1');
    expect(keys(body.items)).toContain('p-plenty@wh-1:LOW');
    expect(body.items.every((item: { threshold: number }) => item.threshold === 50)).toBe(true);
    expect(keys((await lowStock('?threshold=0')).items)).toEqual(['p-empty@wh-1:CRITICAL', 'p-expired@wh-1:CRITICAL']);
  });

  it('pages with limit and offset while the totals count every page', async () => {
    const first = await lowStock('?limit=4');
    const second = await lowStock('?limit=4&offset=4');
    expect(first.items).toHaveLength(4);
    expect(second.items).toHaveLength(2);
    expect(second).toMatchObject({ totalItems: 6, criticalItems: 3 });
    expect(await lowStock('?offset=100')).toEqual({ items: [], totalItems: 6, criticalItems: 3, lowItems: 3 });
  });

  it('takes a fraction below 1 as that share of each reorder point (threshold=0.2 of seed 002)', async () => {
    const body = await lowStock('?threshold=0.5&warehouseId=wh-1');
    // a threshold of 5 units at reorder points of 10: p-held has exactly 5 available
    expect(keys(body.items)).toEqual(['p-empty@wh-1:CRITICAL', 'p-expired@wh-1:CRITICAL', 'p-under-min@wh-1:CRITICAL', 'p-held@wh-1:LOW']);
    expect(body.items.map((item: { threshold: number; percentageRemaining: number }) => [item.threshold, item.percentageRemaining])).toEqual([
      [5, 0],
      [5, 0],
      [5, 30],
      [5, 50],
    ]);
    expect(keys((await lowStock('?threshold=0.2&warehouseId=wh-1')).items)).toEqual(['p-empty@wh-1:CRITICAL', 'p-expired@wh-1:CRITICAL']);
  });

  it('gives the days of supply at the rate stock left over the last 30 days', async () => {
    await receive(t, 'p-moving', 'wh-1', 100);
    await putSettings({ productId: 'p-moving', warehouseId: 'wh-1', reorderPoint: 20, reorderQuantity: 100, minStockLevel: 5 });
    const ship = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/inventory/adjust',
      headers: admin,
      payload: { adjustments: [{ productId: 'p-moving', warehouseId: 'wh-1', quantity: 85, type: 'SHIPMENT', reason: 'orders' }] },
    });
    expect(ship.statusCode).toBe(200);
    // 15 left, and 85 went out in 30 days: 2.83 a day, so 15 last 5.2 days
    const item = (await lowStock('?warehouseId=wh-1')).items.find((entry: { productId: string }) => entry.productId === 'p-moving');
    expect(item).toMatchObject({ currentStock: 15, daysOfSupply: 5.2, status: 'LOW', percentageRemaining: 75 });
    // the window reaches back 30 days: a shipment dated earlier does not count
    await t.db.pool.query(`alter table inventory_transactions disable trigger user`);
    await t.db.pool.query(`update inventory_transactions set created_at = now() - interval '31 days' where product_id = 'p-moving' and type = 'SHIPMENT'`);
    await t.db.pool.query(`alter table inventory_transactions enable trigger user`);
    const later = (await lowStock('?warehouseId=wh-1')).items.find((entry: { productId: string }) => entry.productId === 'p-moving');
    expect(later).toMatchObject({ currentStock: 15, daysOfSupply: null });
  });

  it.each([
    ['a negative threshold', '?threshold=-1'],
    ['a threshold above 1 that is not whole', '?threshold=1.5'],
    ['an unknown parameter', '?severity=LOW'],
  ])('answers 400 to %s', async (_name, query) => {
    const response = await t.app.inject({ method: 'GET', url: `/api/v1/inventory/low-stock${query}`, headers: service });
    expect(response.statusCode).toBe(400);
  });
});
