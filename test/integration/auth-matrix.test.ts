import { v7 as uuidv7 } from 'uuid';
import type { RouteSummary } from '../../src/http/app-deps';
import { startTestApp, type TestApp } from '../helpers/app';
import { bearer } from '../helpers/tokens';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('auth-matrix', { broker: true });
});
afterAll(async () => t.close());

// SPEC section 6: these need the admin role; every other call under /api/v1 any authenticated caller.
const adminRoutes = new Set([
  'POST /api/v1/warehouses',
  'POST /api/v1/products',
  'PUT /api/v1/inventory/adjust',
  'PUT /api/v1/inventory/settings',
  'POST /api/v1/inventory/transfer',
  'POST /api/v1/inventory/transfers/:id/receive',
]);
const expectedAccess = (route: RouteSummary) =>
  adminRoutes.has(`${route.method} ${route.url}`) || route.url.startsWith('/api/v1/admin/') ? 'admin' : 'service';

// Every route SPEC section 6 names; the app must serve each of them.
const specRoutes = [
  'POST /api/v1/inventory/check-availability',
  'POST /api/v1/inventory/reserve',
  'POST /api/v1/inventory/release',
  'POST /api/v1/inventory/allocate',
  'POST /api/v1/inventory/ship',
  'GET /api/v1/inventory/reservations/:id',
  'POST /api/v1/inventory/reservations/:id/extend',
  'GET /api/v1/inventory/:productId',
  'GET /api/v1/inventory/:productId/movements',
  'PUT /api/v1/inventory/adjust',
  'PUT /api/v1/inventory/settings',
  'GET /api/v1/inventory/low-stock',
  'POST /api/v1/inventory/transfer',
  'POST /api/v1/inventory/transfers/:id/receive',
  'POST /api/v1/allocations',
  'GET /api/v1/allocations/:id',
  'GET /api/v1/allocations',
  'GET /api/v1/backorders',
  'DELETE /api/v1/backorders/:id',
  'POST /api/v1/warehouses',
  'GET /api/v1/warehouses',
  'POST /api/v1/products',
  'GET /api/v1/products',
  'GET /api/v1/admin/dead-letters',
  'POST /api/v1/admin/dead-letters/:id/replay',
  'DELETE /api/v1/admin/dead-letters/:id',
];

const apiRoutes = () => t.app.routeList.filter((route) => route.url.startsWith('/api/v1/'));
const name = (route: RouteSummary) => `${route.method} ${route.url}`;

type Headers = Record<string, string>;
/** Calls a route with every path parameter filled in and, for writes, an empty body. */
async function call(route: RouteSummary, headers: Headers) {
  const url = route.url.replace(/:[A-Za-z]+/g, () => uuidv7());
  const payload = ['POST', 'PUT', 'PATCH'].includes(route.method) ? {} : undefined;
  return t.app.inject({ method: route.method as 'GET', url, headers, ...(payload ? { payload } : {}) });
}

/** Calls every route and lists those whose answer `check` rejects, so a failure names them all. */
async function misfits(routes: RouteSummary[], headers: Headers, check: (status: number, code: string | undefined) => boolean): Promise<string[]> {
  const failures: string[] = [];
  for (const route of routes) {
    const response = await call(route, headers);
    const code = String(response.headers['content-type'] ?? '').includes('json') ? response.json().error?.code : undefined;
    if (!check(response.statusCode, code)) failures.push(`${name(route)} -> ${response.statusCode} ${code ?? ''}`.trim());
  }
  return failures;
}

describe('the auth matrix of every /api/v1 route', () => {
  it('serves every route SPEC section 6 names', () => {
    const served = new Set(apiRoutes().map(name));
    expect(specRoutes.filter((route) => !served.has(route))).toEqual([]);
  });

  it('gives every route the access SPEC section 6 names: admin for writes to the catalogue, stock and dead letters, service otherwise', () => {
    const wrong = apiRoutes()
      .filter((route) => route.access !== expectedAccess(route))
      .map((route) => `${name(route)} is ${route.access}, expected ${expectedAccess(route)}`);
    expect(wrong).toEqual([]);
  });

  it('answers 401 UNAUTHORIZED to every route called without a token', async () => {
    expect(await misfits(apiRoutes(), {}, (status, code) => status === 401 && code === 'UNAUTHORIZED')).toEqual([]);
  });

  it('answers 401 to every route called with a token signed with another secret', async () => {
    const forged = bearer('admin', 'intruder', 'another-secret-0123456789abcdef');
    expect(await misfits(apiRoutes(), forged, (status, code) => status === 401 && code === 'UNAUTHORIZED')).toEqual([]);
  });

  it('answers 403 FORBIDDEN to a service token on every admin route', async () => {
    const admin = apiRoutes().filter((route) => expectedAccess(route) === 'admin');
    expect(admin.length).toBeGreaterThan(0);
    expect(await misfits(admin, bearer('service'), (status, code) => status === 403 && code === 'FORBIDDEN')).toEqual([]);
  });

  it('lets an admin token through every route, and a service token through every service route, without a 5xx', async () => {
    const passes = (status: number) => status !== 401 && status !== 403 && status < 500;
    expect(await misfits(apiRoutes(), bearer('admin'), passes)).toEqual([]);
    const service = apiRoutes().filter((route) => expectedAccess(route) === 'service');
    expect(await misfits(service, bearer('service'), passes)).toEqual([]);
  });

  it('leaves health, metrics and the API docs open', async () => {
    for (const url of ['/health/live', '/health/ready', '/metrics', '/docs/json']) {
      const response = await t.app.inject({ method: 'GET', url });
      expect({ url, status: response.statusCode }).toEqual({ url, status: 200 });
    }
    const ui = await t.app.inject({ method: 'GET', url: '/docs' });
    expect(ui.statusCode).toBeLessThan(400);
  });
});
