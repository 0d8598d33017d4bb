import { startTestApp, type TestApp } from '../helpers/app';
import { bearer, testJwtSecret } from '../helpers/tokens';
import { signToken } from '../../src/auth/tokens';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('catalogue');
});
afterAll(async () => t.close());

const admin = bearer('admin', 'ops-1');
const service = bearer('service', 'checkout');

describe('health', () => {
  it('answers liveness and readiness without a token', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
    const ready = await t.app.inject({ method: 'GET', url: '/health/ready' });
    // No broker connection in this test app: readiness must say so.
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ status: 'down', checks: { database: { status: 'up' }, broker: { status: 'down' } } });
  });
});

describe('auth', () => {
  const url = '/api/v1/warehouses';
  it.each([
    ['no header', {}],
    ['a malformed header', { authorization: 'Token abc' }],
    ['a malformed token', { authorization: 'Bearer not.a.jwt' }],
    ['a token signed with another secret', bearer('admin', 'x', 'another-secret-0123456789')],
    ['a token expired longer ago than the clock skew allows', { authorization: `Bearer ${signToken(testJwtSecret, { sub: 'x', role: 'admin' }, -120)}` }],
    ['a token without a role', { authorization: `Bearer ${signToken(testJwtSecret, { sub: 'x', role: 'nobody' as 'admin' })}` }],
  ])('answers 401 to %s', async (_name, headers) => {
    const response = await t.app.inject({ method: 'GET', url, headers });
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('UNAUTHORIZED');
  });

  it('answers 403 when a service caller creates a warehouse', async () => {
    const response = await t.app.inject({ method: 'POST', url, headers: service, payload: { id: 'wh-x', code: 'X', name: 'X' } });
    expect(response.statusCode).toBe(403);
    expect(response.json().error.code).toBe('FORBIDDEN');
  });

  it('says which request failed with a request id header', async () => {
    const response = await t.app.inject({ method: 'GET', url, headers: { 'x-request-id': 'abc-123' } });
    expect(response.headers['x-request-id']).toBe('abc-123');
  });
});

describe('catalogue', () => {
  it('creates, gets and lists warehouses', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/warehouses',
      headers: admin,
      payload: { id: 'wh-001', code: 'NYC', name: 'New York', latitude: 40.7, longitude: -74, premium: true },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ id: 'wh-001', code: 'NYC', type: 'DISTRIBUTION_CENTER', premium: true, active: true });
    expect(created.json().createdAt).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);

    const fetched = await t.app.inject({ method: 'GET', url: '/api/v1/warehouses/wh-001', headers: service });
    expect(fetched.json()).toMatchObject({ id: 'wh-001', latitude: 40.7, longitude: -74 });
    const listed = await t.app.inject({ method: 'GET', url: '/api/v1/warehouses', headers: service });
    expect(listed.json().items.map((w: { id: string }) => w.id)).toEqual(['wh-001']);
  });

  it('refuses a second warehouse with the same id with 409', async () => {
    const payload = { id: 'wh-dup', code: 'DUP', name: 'Dup' };
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/warehouses', headers: admin, payload })).statusCode).toBe(201);
    const again = await t.app.inject({ method: 'POST', url: '/api/v1/warehouses', headers: admin, payload });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('ALREADY_EXISTS');
  });

  it('creates and gets products, 404 for an unknown one', async () => {
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/products', headers: admin, payload: { id: 'sku-1', sku: 'SKU-1', name: 'Widget' } });
    expect(created.statusCode).toBe(201);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/products/sku-1', headers: service })).json()).toMatchObject({ sku: 'SKU-1' });
    const missing = await t.app.inject({ method: 'GET', url: '/api/v1/products/nope', headers: service });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('NOT_FOUND');
  });

  it.each([
    ['an id with spaces', { id: 'bad id', sku: 'S', name: 'N' }],
    ['an unknown field', { id: 'p-2', sku: 'S2', name: 'N', colour: 'red' }],
    ['a missing field', { id: 'p-3', name: 'N' }],
    ['a wrong type', { id: 42, sku: 'S4', name: 'N' }],
  ])('answers 400 with the issues to %s and stores nothing', async (_name, payload) => {
    const response = await t.app.inject({ method: 'POST', url: '/api/v1/products', headers: admin, payload });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('VALIDATION_FAILED');
    expect(response.json().error.details.issues.length).toBeGreaterThan(0);
    const listed = await t.app.inject({ method: 'GET', url: '/api/v1/products', headers: service });
    expect(listed.json().items.map((p: { id: string }) => p.id)).toEqual(['sku-1']);
  });

  it('answers 400 to a body that is not JSON and 413 to one over the limit', async () => {
    const broken = await t.app.inject({
      method: 'POST',
      url: '/api/v1/products',
      headers: { ...admin, 'content-type': 'application/json' },
      payload: '{"id":',
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error.code).toBe('VALIDATION_FAILED');
    const huge = await t.app.inject({
      method: 'POST',
      url: '/api/v1/products',
      headers: { ...admin, 'content-type': 'application/json' },
      payload: JSON.stringify({ id: 'p', sku: 's', name: 'x'.repeat(t.config.BODY_LIMIT_BYTES) }),
    });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error.code).toBe('PAYLOAD_TOO_LARGE');
  });
});
