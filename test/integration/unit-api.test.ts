import { findUnitDifferences } from '../../src/db/unit-store';
import { startTestApp, type TestApp } from '../helpers/app';
import { admin, receive, seedCatalogue, stockSnapshot } from '../helpers/inventory';
import { inventoryApi } from '../helpers/inventory-api';
import { expectBooksBalanced } from '../helpers/stock';
import { receiveUnits, unitsOf } from '../helpers/units';

/** The unit API of seed 004: finding units, one unit with its history, marking units sold or delivered, an order's inventory. */

let t: TestApp;
let api: ReturnType<typeof inventoryApi>;
// another owner (its sub, no tenant claim)
let other: ReturnType<typeof inventoryApi>;

beforeAll(async () => {
  t = await startTestApp('unit-api');
  api = inventoryApi(t.app);
  other = inventoryApi(t.app, 'other-shop');
  await seedCatalogue(t, {
    warehouses: ['wh-a', 'wh-b'],
    serialProducts: ['list-1', 'list-2', 'hist-1', 'hist-2', 'sell-1', 'sell-2', 'ord-1', 'ord-2', 'view-1', 'flow-1'],
  });
  await t.app.inject({ method: 'POST', url: '/api/v1/products', headers: admin, payload: { id: 'bulk-1', sku: 'SKU-bulk-1', name: 'bulk-1' } });
});
afterAll(async () => t.close());
afterEach(async () => {
  await expectBooksBalanced(t.db.pool);
  expect((await findUnitDifferences(t.db.pool)).differences).toEqual([]);
});

type Unit = { id: string; productId: string; serialNumber: string; status: string; reservationId: string | null; orderId: string | null };

async function reserve(caller: typeof api, orderId: string, items: object[]): Promise<string> {
  const response = await caller.reserve({ orderId, items });
  expect(response.statusCode).toBe(201);
  return response.json().reservationId;
}

async function stepsOf(productId: string, serial: string): Promise<string[]> {
  const response = await api.call('GET', `/units/${serial}?productId=${productId}`);
  expect(response.statusCode).toBe(200);
  return response.json<{ history: { fromStatus: string | null; toStatus: string }[] }>().history.map((step) => `${step.fromStatus ?? '-'}>${step.toStatus}`);
}

async function outboxTypes(reservationId: string): Promise<string[]> {
  const { rows } = await t.db.pool.query<{ type: string }>(`select event_type as type from outbox_events where payload->>'reservationId' = $1 order by id`, [
    reservationId,
  ]);
  return rows.map((row) => row.type);
}

describe('GET /units', () => {
  it('filters by product, status, warehouse, serial number and order, and pages by cursor in (product, serial number) order', async () => {
    await receiveUnits(t, 'list-1', 'wh-a', ['L-3', 'L-1', 'L-2']);
    await receiveUnits(t, 'list-1', 'wh-b', ['L-4']);
    await receiveUnits(t, 'list-2', 'wh-a', ['L-1', 'L-9']);
    const held = await reserve(api, 'o-list', [{ productId: 'list-1', quantity: 1, serialNumbers: ['L-2'] }]);

    const serials = (page: { items: Unit[] }) => page.items.map((unit) => `${unit.productId}/${unit.serialNumber}`);
    const walked: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const response = await api.call('GET', `/units?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`);
      expect(response.statusCode).toBe(200);
      const page = response.json<{ items: Unit[]; nextCursor: string | null }>();
      walked.push(...serials(page).filter((name) => name.startsWith('list-')));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 50);
    expect(walked).toEqual(['list-1/L-1', 'list-1/L-2', 'list-1/L-3', 'list-1/L-4', 'list-2/L-1', 'list-2/L-9']);

    const list = async (query: string) => serials((await api.call('GET', `/units?${query}`)).json());
    expect(await list('productId=list-1&warehouseId=wh-b')).toEqual(['list-1/L-4']);
    expect(await list('productId=list-1&status=RESERVED')).toEqual(['list-1/L-2']);
    expect(await list('productId=list-1&status=RESERVED,AVAILABLE')).toHaveLength(4);
    expect(await list('serialNumber=L-1')).toEqual(['list-1/L-1', 'list-2/L-1']);
    expect(await list('orderId=o-list')).toEqual(['list-1/L-2']);
    const mine = (await api.call('GET', '/units?orderId=o-list')).json<{ items: Unit[] }>().items[0]!;
    expect(mine).toMatchObject({ status: 'RESERVED', reservationId: held, orderId: 'o-list' });

    // another owner sees the unit's status, not whose it is, and finds nothing under the order id
    const seen = (await other.call('GET', '/units?productId=list-1&status=RESERVED')).json<{ items: Unit[] }>().items;
    expect(seen).toEqual([expect.objectContaining({ serialNumber: 'L-2', status: 'RESERVED', reservationId: null, orderId: null })]);
    expect((await other.call('GET', '/units?orderId=o-list')).json().items).toEqual([]);
    // an admin sees every owner's
    const asAdmin = await t.app.inject({ method: 'GET', url: '/api/v1/units?orderId=o-list', headers: admin });
    expect(asAdmin.json().items).toEqual([expect.objectContaining({ reservationId: held })]);

    for (const bad of ['status=GONE', 'cursor=nope', 'limit=0', 'serialNumber=a%00b', 'colour=red']) {
      const response = await api.call('GET', `/units?${bad}`);
      expect({ bad, status: response.statusCode, code: response.json().error.code }).toEqual({ bad, status: 400, code: 'VALIDATION_FAILED' });
    }
    await api.release({ reservationId: held });
  });
});

describe('GET /units/:serialNumber', () => {
  it('answers the unit with its history; a serial number of several products needs productId', async () => {
    await receiveUnits(t, 'hist-1', 'wh-a', ['H-1', 'SHARED-1']);
    await receiveUnits(t, 'hist-2', 'wh-a', ['SHARED-1']);
    const reservationId = await reserve(api, 'o-hist', [{ productId: 'hist-1', quantity: 1, serialNumbers: ['H-1'] }]);
    expect((await api.release({ reservationId, reason: 'changed my mind' })).statusCode).toBe(200);

    const response = await api.call('GET', '/units/H-1');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      productId: 'hist-1',
      serialNumber: 'H-1',
      status: 'AVAILABLE',
      reservationId: null,
      condition: 'New',
      history: [
        { fromStatus: null, toStatus: 'AVAILABLE', reason: 'delivery' },
        { fromStatus: 'AVAILABLE', toStatus: 'RESERVED', reference: reservationId, actor: 'checkout' },
        { fromStatus: 'RESERVED', toStatus: 'AVAILABLE', reason: 'changed my mind', reference: reservationId },
      ],
    });
    // another owner does not learn which reservation held it
    const seen = (await other.call('GET', '/units/H-1')).json<{ history: { reference: string | null }[] }>();
    expect(seen.history.map((step) => step.reference)).toEqual([expect.any(String), null, null]);

    const shared = await api.call('GET', '/units/SHARED-1');
    expect(shared.statusCode).toBe(409);
    expect(shared.json().error).toMatchObject({ code: 'CONFLICT', details: { serialNumber: 'SHARED-1', productIds: ['hist-1', 'hist-2'] } });
    expect((await api.call('GET', '/units/SHARED-1?productId=hist-2')).json()).toMatchObject({ productId: 'hist-2', serialNumber: 'SHARED-1' });
    expect((await api.call('GET', '/units/NOPE-1')).statusCode).toBe(404);
    expect((await api.call('GET', '/units/H-1?productId=hist-2')).statusCode).toBe(404);
  });
});

describe('POST /units/mark-sold and /units/mark-delivered by serial number', () => {
  it('sells the units of a reservation by allocating it, then delivers them one by one by shipping exactly those named', async () => {
    await receiveUnits(t, 'sell-1', 'wh-a', ['S-1', 'S-2']);
    await receiveUnits(t, 'sell-1', 'wh-b', ['S-3']);
    const reservationId = await reserve(api, 'o-sell', [{ productId: 'sell-1', quantity: 3 }]);

    const sold = await api.call('POST', '/units/mark-sold', { productId: 'sell-1', serialNumbers: ['S-3', 'S-1', 'S-2'] });
    expect(sold.statusCode).toBe(200);
    expect(sold.json().reservations).toEqual([expect.objectContaining({ reservationId, status: 'ALLOCATED' })]);
    expect(sold.json().units.map((unit: Unit) => [unit.serialNumber, unit.status])).toEqual([
      ['S-1', 'SOLD'],
      ['S-2', 'SOLD'],
      ['S-3', 'SOLD'],
    ]);
    expect(await outboxTypes(reservationId)).toEqual(['InventoryReserved', 'InventoryAllocated']);

    // S-3 is in the second lot: the lot's line ships it, and exactly it
    const first = await api.call('POST', '/units/mark-delivered', { productId: 'sell-1', serialNumbers: ['S-3'] });
    expect(first.statusCode).toBe(200);
    expect(first.json().reservations[0].status).toBe('ALLOCATED');
    expect(await unitsOf(t, 'sell-1')).toEqual({ 'S-1': ['SOLD', reservationId], 'S-2': ['SOLD', reservationId], 'S-3': ['DELIVERED', reservationId] });
    const second = await api.call('POST', '/units/mark-delivered', { productId: 'sell-1', serialNumbers: ['S-2'] });
    expect(second.json().units).toEqual([expect.objectContaining({ serialNumber: 'S-2', status: 'DELIVERED' })]);
    expect((await unitsOf(t, 'sell-1'))['S-1']).toEqual(['SOLD', reservationId]);
    const last = await api.call('POST', '/units/mark-delivered', { productId: 'sell-1', serialNumbers: ['S-1'] });
    expect(last.json().reservations[0].status).toBe('FULFILLED');
    expect(await stepsOf('sell-1', 'S-1')).toEqual(['->AVAILABLE', 'AVAILABLE>RESERVED', 'RESERVED>SOLD', 'SOLD>DELIVERED']);
  });

  it('refuses the whole call with 409 listing every unit that cannot move, and changes nothing', async () => {
    await receiveUnits(t, 'sell-2', 'wh-a', ['R-1', 'R-2', 'R-3', 'R-4']);
    const reservationId = await reserve(api, 'o-refuse', [{ productId: 'sell-2', quantity: 2, serialNumbers: ['R-1', 'R-2'] }]);
    const theirs = await reserve(other, 'o-theirs', [{ productId: 'sell-2', quantity: 1, serialNumbers: ['R-4'] }]);
    const before = await stockSnapshot(t.db.pool);

    const refused = await api.call('POST', '/units/mark-sold', { productId: 'sell-2', serialNumbers: ['R-1', 'R-3', 'R-4', 'R-404'] });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('INVALID_TRANSITION');
    expect(refused.json().error.details.units).toEqual([
      expect.objectContaining({ serialNumber: 'R-3', status: 'AVAILABLE', reservationId: null, reason: expect.stringMatching(/direct allocation/) }),
      expect.objectContaining({ serialNumber: 'R-4', status: 'RESERVED', reservationId: null, reason: 'it is held by another owner' }),
      expect.objectContaining({ serialNumber: 'R-404', status: 'UNKNOWN' }),
    ]);
    // a reservation is sold whole: every unit it holds must be named
    const part = await api.call('POST', '/units/mark-sold', { productId: 'sell-2', serialNumbers: ['R-1'] });
    expect(part.statusCode).toBe(409);
    expect(part.json().error.details.units).toEqual([expect.objectContaining({ serialNumber: 'R-2', status: 'RESERVED', reservationId })]);
    // a Reserved unit is not delivered
    const early = await api.call('POST', '/units/mark-delivered', { productId: 'sell-2', serialNumbers: ['R-1'] });
    expect(early.statusCode).toBe(409);
    expect(early.json().error.details.units[0].reason).toMatch(/RESERVED and cannot become DELIVERED/);
    // a hold that ended is not sold
    await t.db.pool.query(`update reservations set expires_at = now() - interval '1 minute' where id = $1`, [reservationId]);
    const lapsed = await api.call('POST', '/units/mark-sold', { productId: 'sell-2', serialNumbers: ['R-1', 'R-2'] });
    expect(lapsed.statusCode).toBe(409);
    expect(lapsed.json().error.details.units.map((unit: { reason: string }) => unit.reason)).toEqual([
      expect.stringMatching(/is EXPIRED/),
      expect.stringMatching(/is EXPIRED/),
    ]);
    expect(await stockSnapshot(t.db.pool)).toEqual(before);
    await t.db.pool.query(`update reservations set expires_at = now() + interval '30 minutes' where id = $1`, [reservationId]);
    await api.release({ reservationId });
    await other.release({ reservationId: theirs });
  });
});

describe('POST /units/mark-sold and /units/mark-delivered by order', () => {
  it('sells, then delivers, every unit of an order through its reservations; again answers 409; replays under its key', async () => {
    await receiveUnits(t, 'ord-1', 'wh-a', ['O-1', 'O-2']);
    await receiveUnits(t, 'ord-2', 'wh-b', ['P-1']);
    const first = await reserve(api, 'o-order', [{ productId: 'ord-1', quantity: 2 }]);
    await receive(t, 'bulk-1', 'wh-b', 5);
    // a reservation with a lot-tracked line beside the unit: it is sold and delivered along
    const secondId = await reserve(api, 'o-order', [
      { productId: 'ord-2', quantity: 1 },
      { productId: 'bulk-1', quantity: 2 },
    ]);

    const early = await api.call('POST', '/units/mark-delivered', { orderId: 'o-order' });
    expect(early.statusCode).toBe(409);
    expect(early.json().error.details.units).toHaveLength(3);

    const key = { 'idempotency-key': 'sell-o-order' };
    const sold = await api.call('POST', '/units/mark-sold', { orderId: 'o-order' }, key);
    expect(sold.statusCode).toBe(200);
    expect(sold.json().reservations.map((reservation: { status: string }) => reservation.status)).toEqual(['ALLOCATED', 'ALLOCATED']);
    expect(await unitsOf(t, 'ord-1')).toEqual({ 'O-1': ['SOLD', first], 'O-2': ['SOLD', first] });
    const replayed = await api.call('POST', '/units/mark-sold', { orderId: 'o-order' }, key);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.json()).toEqual(sold.json());
    const again = await api.call('POST', '/units/mark-sold', { orderId: 'o-order' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.details.units.map((unit: { reason: string }) => unit.reason)).toEqual(Array(3).fill('Unit is already SOLD'));

    const delivered = await api.call('POST', '/units/mark-delivered', { orderId: 'o-order' });
    expect(delivered.statusCode).toBe(200);
    expect(delivered.json().reservations.map((reservation: { status: string }) => reservation.status)).toEqual(['FULFILLED', 'FULFILLED']);
    expect(await unitsOf(t, 'ord-2')).toEqual({ 'P-1': ['DELIVERED', secondId] });
    expect(delivered.json().reservations[1].items).toEqual(
      expect.arrayContaining([expect.objectContaining({ productId: 'bulk-1', lots: [expect.objectContaining({ shippedQuantity: 2 })] })]),
    );

    // another owner's order of the same id is not this caller's; an order without units is not found
    expect((await other.call('POST', '/units/mark-sold', { orderId: 'o-order' })).statusCode).toBe(404);
    expect((await api.call('POST', '/units/mark-sold', { orderId: 'o-none' })).statusCode).toBe(404);
    expect((await api.call('POST', '/units/mark-sold', {})).statusCode).toBe(400);
    expect((await api.call('POST', '/units/mark-sold', { orderId: 'o-order', productId: 'ord-1' })).statusCode).toBe(400);
  });
});

describe('GET /orders/:orderId/inventory', () => {
  it("answers the order's reservations and units, and the disagreements between units and lines", async () => {
    await receiveUnits(t, 'view-1', 'wh-a', ['V-1', 'V-2', 'V-3']);
    const reservationId = await reserve(api, 'o-view', [{ productId: 'view-1', quantity: 2, serialNumbers: ['V-1', 'V-2'] }]);

    const view = await api.call('GET', '/orders/o-view/inventory');
    expect(view.statusCode).toBe(200);
    expect(view.json()).toMatchObject({
      orderId: 'o-view',
      consistent: true,
      disagreements: [],
      reservations: [{ reservationId, status: 'RESERVED', history: [expect.objectContaining({ toStatus: 'RESERVED' })] }],
      units: [expect.objectContaining({ serialNumber: 'V-1', status: 'RESERVED' }), expect.objectContaining({ serialNumber: 'V-2', status: 'RESERVED' })],
    });

    // V-2 forgets its reservation (the lot's counts still agree, so nothing refuses it)
    await t.db.pool.query(`update stock_units set reservation_id = null where product_id = 'view-1' and serial_number = 'V-2'`);
    const broken = (await api.call('GET', '/orders/o-view/inventory')).json();
    expect(broken.consistent).toBe(false);
    expect(broken.disagreements).toEqual([
      expect.objectContaining({ reservationId, productId: 'view-1', status: 'RESERVED', expected: 2, actual: 1, serialNumbers: ['V-1'] }),
    ]);
    await t.db.pool.query(`update stock_units set reservation_id = $1 where product_id = 'view-1' and serial_number = 'V-2'`, [reservationId]);

    expect((await other.call('GET', '/orders/o-view/inventory')).statusCode).toBe(404);
    expect((await other.call('GET', '/orders/o-view/inventory?owner=checkout')).statusCode).toBe(404);
    const asAdmin = await t.app.inject({ method: 'GET', url: '/api/v1/orders/o-view/inventory?owner=checkout', headers: admin });
    expect(asAdmin.json().reservations).toHaveLength(1);
    expect((await api.call('GET', '/orders/o-nothing/inventory')).statusCode).toBe(404);
    await api.release({ reservationId });
  });
});

describe("seed 004's invoice flows through the API", () => {
  it('created -> reserved; cancelled -> available; paid -> sold -> delivered, each unit with its history and the order view agreeing', async () => {
    await receiveUnits(t, 'flow-1', 'wh-a', ['INV-1', 'INV-2', 'INV-3']);
    const statuses = async () => Object.fromEntries(Object.entries(await unitsOf(t, 'flow-1')).map(([serial, [status]]) => [serial, status]));

    // invoice created: its items are reserved; invoice cancelled: they are available again
    const cancelled = await reserve(api, 'inv-cancelled', [{ productId: 'flow-1', quantity: 2, serialNumbers: ['INV-1', 'INV-2'] }]);
    expect(await statuses()).toEqual({ 'INV-1': 'RESERVED', 'INV-2': 'RESERVED', 'INV-3': 'AVAILABLE' });
    expect((await api.release({ reservationId: cancelled, reason: 'invoice cancelled' })).statusCode).toBe(200);
    expect(await statuses()).toEqual({ 'INV-1': 'AVAILABLE', 'INV-2': 'AVAILABLE', 'INV-3': 'AVAILABLE' });

    // invoice created, fully paid, delivered
    await reserve(api, 'inv-paid', [{ productId: 'flow-1', quantity: 2, serialNumbers: ['INV-2', 'INV-3'] }]);
    expect((await api.call('POST', '/units/mark-sold', { orderId: 'inv-paid' })).statusCode).toBe(200);
    expect(await statuses()).toEqual({ 'INV-1': 'AVAILABLE', 'INV-2': 'SOLD', 'INV-3': 'SOLD' });
    expect((await api.call('POST', '/units/mark-delivered', { orderId: 'inv-paid' })).statusCode).toBe(200);
    expect(await statuses()).toEqual({ 'INV-1': 'AVAILABLE', 'INV-2': 'DELIVERED', 'INV-3': 'DELIVERED' });
    expect(await stepsOf('flow-1', 'INV-2')).toEqual([
      '->AVAILABLE',
      'AVAILABLE>RESERVED',
      'RESERVED>AVAILABLE',
      'AVAILABLE>RESERVED',
      'RESERVED>SOLD',
      'SOLD>DELIVERED',
    ]);
    const view = (await api.call('GET', '/orders/inv-paid/inventory')).json();
    expect(view).toMatchObject({ consistent: true, reservations: [{ status: 'FULFILLED' }] });
    expect(view.units.map((unit: Unit) => `${unit.serialNumber}:${unit.status}`)).toEqual(['INV-2:DELIVERED', 'INV-3:DELIVERED']);
  });
});

it('serves the unit routes to service callers', () => {
  const served = t.app.routeList.filter((route) => route.url.startsWith('/api/v1/units') || route.url.startsWith('/api/v1/orders/'));
  expect(served.map((route) => `${route.method} ${route.url} ${route.access}`).sort()).toEqual([
    'GET /api/v1/orders/:orderId/inventory service',
    'GET /api/v1/units service',
    'GET /api/v1/units/:serialNumber service',
    'POST /api/v1/units/mark-delivered service',
    'POST /api/v1/units/mark-sold service',
  ]);
});
