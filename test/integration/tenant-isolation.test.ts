import type { InjectOptions } from 'fastify';
import { signToken, type Caller } from '../../src/auth/tokens';
import { startTestApp, type TestApp } from '../helpers/app';
import { admin, receive, seedCatalogue, stockSnapshot } from '../helpers/inventory';
import { expectBooksBalanced } from '../helpers/stock';
import { testJwtSecret } from '../helpers/tokens';

/**
 * Object-level authorisation (OWASP API1): every reservation, backorder and allocation job belongs
 * to the owner of the token that made it (its `tenant`, else its `sub`). Another service caller
 * gets 404 on each of them, whichever route it takes, changes nothing, and meets none of them in a
 * list; order ids and Idempotency-Keys are scoped by owner; an admin sees every owner's.
 */

let t: TestApp;
const as = (caller: Caller) => ({ authorization: `Bearer ${signToken(testJwtSecret, caller)}` });
const tenantA = as({ sub: 'checkout-a', role: 'service', tenant: 'tenant-a' });
// another service of tenant A: the same owner
const tenantA2 = as({ sub: 'billing-a', role: 'service', tenant: 'tenant-a' });
const tenantB = as({ sub: 'checkout-b', role: 'service', tenant: 'tenant-b' });
// a token without a tenant claim owns by its sub
const loneService = as({ sub: 'lone-service', role: 'service' });

async function call(headers: Record<string, string>, method: InjectOptions['method'], url: string, payload?: unknown, extra: Record<string, string> = {}) {
  return t.app.inject({ method, url: `/api/v1${url}`, headers: { ...headers, ...extra }, ...(payload === undefined ? {} : { payload: payload as object }) });
}

/** What tenant A owns: a held reservation, an allocated one, a backorder and an allocation job, all for order ids B will use too. */
let held: string;
let allocated: string;
let backorder: string;
let job: string;

beforeAll(async () => {
  t = await startTestApp('tenant_isolation', { broker: true });
  await seedCatalogue(t, { warehouses: ['wh-1'], products: ['p-1', 'p-empty'] });
  await receive(t, 'p-1', 'wh-1', 100);

  const reserved = await call(
    tenantA,
    'POST',
    '/inventory/reserve',
    { orderId: 'order-1001', items: [{ productId: 'p-1', quantity: 5 }] },
    { 'idempotency-key': 'key-1' },
  );
  expect(reserved.statusCode).toBe(201);
  held = reserved.json().reservationId;

  const second = await call(tenantA, 'POST', '/inventory/reserve', { orderId: 'order-1002', items: [{ productId: 'p-1', quantity: 3 }] });
  allocated = second.json().reservationId;
  expect((await call(tenantA, 'POST', '/inventory/allocate', { reservationId: allocated })).statusCode).toBe(200);

  const waiting = await call(tenantA, 'POST', '/inventory/reserve', {
    orderId: 'order-1003',
    items: [{ productId: 'p-empty', quantity: 2 }],
    allowBackorder: true,
  });
  expect(waiting.statusCode).toBe(202);
  backorder = waiting.json().backorders[0].id;

  const queued = await call(
    tenantA,
    'POST',
    '/allocations',
    { referenceId: 'order-1001', referenceType: 'order', items: [{ productId: 'p-1', quantity: 1 }] },
    { 'idempotency-key': 'job-key-1' },
  );
  expect(queued.statusCode).toBe(202);
  job = queued.json().allocationId;
});
afterAll(async () => t.close());

/** Every route that names one of A's objects, as B calls it. */
const objectCalls = (): [string, InjectOptions['method'], string, unknown][] => [
  ['GET /inventory/reservations/:id', 'GET', `/inventory/reservations/${held}`, undefined],
  ['POST /inventory/reservations/:id/extend', 'POST', `/inventory/reservations/${held}/extend`, { minutes: 5 }],
  ['POST /inventory/reservations/:id/transfer', 'POST', `/inventory/reservations/${held}/transfer`, { orderId: 'order-b-1' }],
  ['POST /inventory/allocate', 'POST', '/inventory/allocate', { reservationId: held }],
  ['POST /inventory/release', 'POST', '/inventory/release', { reservationId: held }],
  ['POST /inventory/ship', 'POST', '/inventory/ship', { reservationId: allocated }],
  ['DELETE /backorders/:id', 'DELETE', `/backorders/${backorder}`, undefined],
  ['GET /allocations/:id', 'GET', `/allocations/${job}`, undefined],
];

/** What tenant A's objects look like now, to show B changed none of them. */
async function aState() {
  const { rows: reservations } = await t.db.pool.query('select id, status, version, expires_at from reservations where owner = $1 order by id', ['tenant-a']);
  const { rows: backorders } = await t.db.pool.query('select id, status from backorder_items where owner = $1 order by id', ['tenant-a']);
  return { reservations, backorders, stock: await stockSnapshot(t.db.pool) };
}

describe('tenant isolation', () => {
  it('covers every service route that names an object by id', () => {
    // the catalogue and the stock itself (warehouse transfers, which admins make) belong to no owner
    const shared = ['GET /warehouses/:id', 'GET /products/:id', 'GET /inventory/transfers/:id'];
    const covered = new Set([...objectCalls().map(([route]) => route), ...shared]);
    const byId = t.app.routeList.filter((route) => route.access === 'service' && route.url.includes(':id')).map((route) => `${route.method} ${route.url}`);
    expect(byId.map((route) => route.replace('/api/v1', '')).filter((route) => !covered.has(route))).toEqual([]);
  });

  it.each(objectCalls().map(([route]) => [route]))("%s answers another owner's object with 404 and changes nothing", async (route) => {
    const [, method, url, payload] = objectCalls().find(([name]) => name === route)!;
    const before = await aState();
    const response = await call(tenantB, method, url, payload);
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('NOT_FOUND');
    // the answer is the one an id that does not exist gets: nothing says the object is there
    expect(response.body).not.toContain('tenant-a');
    expect(await aState()).toEqual(before);
  });

  it("answers each of those routes for the owner's other services and for an admin", async () => {
    expect((await call(tenantA2, 'GET', `/inventory/reservations/${held}`)).statusCode).toBe(200);
    expect((await call(tenantA2, 'GET', `/allocations/${job}`)).statusCode).toBe(200);
    expect((await call(admin, 'GET', `/inventory/reservations/${held}`)).json().owner).toBe('tenant-a');
    expect((await call(admin, 'GET', `/allocations/${job}`)).json().owner).toBe('tenant-a');
    expect((await call(admin, 'POST', `/inventory/reservations/${held}/extend`, { minutes: 1 })).statusCode).toBe(200);
  });

  it("lists none of another owner's objects, even when asked for them by order or owner", async () => {
    const lists = [
      '/inventory/reservations',
      '/inventory/reservations?orderId=order-1001',
      '/inventory/reservations?owner=tenant-a',
      '/backorders',
      '/backorders?orderId=order-1003',
      `/backorders?reservationId=${held}`,
      '/allocations',
      '/allocations?referenceId=order-1001',
      `/allocations?id=${job}`,
      '/allocations?owner=tenant-a',
    ];
    for (const url of lists) {
      const response = await call(tenantB, 'GET', url);
      expect([url, response.statusCode, response.json().items]).toEqual([url, 200, []]);
    }
  });

  it("keeps two owners' order-1001 apart: B's reservation is its own, and neither sees the other's", async () => {
    const mine = await call(tenantB, 'POST', '/inventory/reserve', { orderId: 'order-1001', items: [{ productId: 'p-1', quantity: 2 }] });
    expect(mine.statusCode).toBe(201);
    const ofB = (await call(tenantB, 'GET', '/inventory/reservations?orderId=order-1001')).json().items;
    const ofA = (await call(tenantA, 'GET', '/inventory/reservations?orderId=order-1001')).json().items;
    expect(ofB.map((reservation: { reservationId: string; owner: string }) => [reservation.reservationId, reservation.owner])).toEqual([
      [mine.json().reservationId, 'tenant-b'],
    ]);
    expect(ofA.map((reservation: { reservationId: string }) => reservation.reservationId)).toEqual([held]);
    const both = (await call(admin, 'GET', '/inventory/reservations?orderId=order-1001')).json().items;
    expect(both.map((reservation: { owner: string }) => reservation.owner).sort()).toEqual(['tenant-a', 'tenant-b']);
    expect((await call(admin, 'GET', '/inventory/reservations?orderId=order-1001&owner=tenant-b')).json().items).toHaveLength(1);
  });

  it("never replays A's answer for B's call under A's Idempotency-Key", async () => {
    const reserve = await call(
      tenantB,
      'POST',
      '/inventory/reserve',
      { orderId: 'order-1001', items: [{ productId: 'p-1', quantity: 5 }] },
      { 'idempotency-key': 'key-1' },
    );
    expect(reserve.statusCode).toBe(201);
    expect(reserve.headers['idempotent-replayed']).toBeUndefined();
    expect(reserve.json().reservationId).not.toBe(held);

    const queued = await call(
      tenantB,
      'POST',
      '/allocations',
      { referenceId: 'order-1001', referenceType: 'order', items: [{ productId: 'p-1', quantity: 1 }] },
      { 'idempotency-key': 'job-key-1' },
    );
    expect(queued.statusCode).toBe(202);
    expect(queued.json().allocationId).not.toBe(job);
    // A's own repeat still replays A's first answer
    const again = await call(
      tenantA2,
      'POST',
      '/allocations',
      { referenceId: 'order-1001', referenceType: 'order', items: [{ productId: 'p-1', quantity: 1 }] },
      { 'idempotency-key': 'job-key-1' },
    );
    expect(again.json().allocationId).toBe(job);
  });

  it("lets an admin see every owner's objects, or one owner's", async () => {
    await call(loneService, 'POST', '/inventory/reserve', { orderId: 'order-9', items: [{ productId: 'p-1', quantity: 1 }] });
    const owners = async (url: string) => [...new Set((await call(admin, 'GET', url)).json().items.map((item: { owner: string }) => item.owner))].sort();
    expect(await owners('/inventory/reservations')).toEqual(['lone-service', 'tenant-a', 'tenant-b']);
    expect(await owners('/inventory/reservations?owner=lone-service')).toEqual(['lone-service']);
    expect(await owners('/allocations')).toEqual(['tenant-a', 'tenant-b']);
    expect(await owners('/allocations?owner=tenant-b')).toEqual(['tenant-b']);
    expect(await owners('/backorders?owner=tenant-a')).toEqual(['tenant-a']);
    expect(await owners('/backorders?owner=tenant-b')).toEqual([]);
    // a token without a tenant sees its own reservations by its sub
    const own = (await call(loneService, 'GET', '/inventory/reservations')).json().items;
    expect(own.map((item: { owner: string }) => item.owner)).toEqual(['lone-service']);
    await expectBooksBalanced(t.db.pool);
  });
});
