import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import type { RouteSummary } from '../../src/http/app-deps';
import { signToken, type Role } from '../../src/auth/tokens';
import { startTestApp, type TestApp } from '../helpers/app';
import { apiDocument, apiOperations, injectOptions, wellFormedCall, type ApiOperation } from '../helpers/openapi';
import { bearer, craftToken, epochSeconds, testJwtSecret, type Signing } from '../helpers/tokens';

const issuer = 'https://id.example.com';
const audience = 'stockroom';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ed = generateKeyPairSync('ed25519');
const otherEd = generateKeyPairSync('ed25519');
const rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();

/** A bearer header the matrix app takes: HS256 with its iss and aud. */
const valid = (role: Role) => ({
  authorization: `Bearer ${signToken(testJwtSecret, { sub: `test-${role}`, role }, 3600, { JWT_ISSUER: issuer, JWT_AUDIENCE: audience })}`,
});

let scratch: string;
let t: TestApp;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'stockroom-auth-'));
  await writeFile(path.join(scratch, 'issuer.pem'), rsaPem);
  // HS256 with the secret, and RS256 with the public key of a team that mints tokens elsewhere; iss and aud required.
  t = await startTestApp('auth-matrix', {
    broker: true,
    env: { JWT_PUBLIC_KEY_FILE: path.join(scratch, 'issuer.pem'), JWT_ISSUER: issuer, JWT_AUDIENCE: audience },
  });
});
afterAll(async () => {
  await t.close();
  await rm(scratch, { recursive: true, force: true });
});

// SPEC section 6 (and the console's live stream): these need the admin role; every other call under /api/v1 any authenticated caller.
const adminRoutes = new Set([
  'POST /api/v1/warehouses',
  'PATCH /api/v1/warehouses/:id',
  'POST /api/v1/products',
  'PATCH /api/v1/products/:id',
  'PUT /api/v1/inventory/adjust',
  'PUT /api/v1/inventory/settings',
  'POST /api/v1/inventory/transfer',
  'POST /api/v1/inventory/transfers/:id/receive',
  'POST /api/v1/inventory/transfers/:id/cancel',
  'GET /api/v1/stream',
]);
// Answers that never end by themselves; test/integration/stream.test.ts reads them.
const streamingRoutes = new Set(['GET /api/v1/stream']);
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
  // seed 004's consistency monitor and fix tools
  'POST /api/v1/admin/consistency/check',
  'GET /api/v1/admin/consistency',
  'POST /api/v1/admin/consistency/:id/fix',
  'POST /api/v1/admin/orders/:orderId/fix-inconsistencies',
  'DELETE /api/v1/admin/reservations/expired',
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
    expect(await misfits(admin, valid('service'), (status, code) => status === 403 && code === 'FORBIDDEN')).toEqual([]);
  });

  it('lets an admin token through every route, and a service token through every service route, without a 5xx', async () => {
    const passes = (status: number) => status !== 401 && status !== 403 && status < 500;
    const answered = apiRoutes().filter((route) => !streamingRoutes.has(name(route)));
    expect(await misfits(answered, valid('admin'), passes)).toEqual([]);
    const service = answered.filter((route) => expectedAccess(route) === 'service');
    expect(await misfits(service, valid('service'), passes)).toEqual([]);
  });

  it('serves /health/details to admins only: 401 without a token or with a forged one, 403 to a service token', async () => {
    const details = (headers: Headers) => t.app.inject({ method: 'GET', url: '/health/details', headers });
    expect((await details({})).json().error.code).toBe('UNAUTHORIZED');
    expect((await details(bearer('admin', 'intruder', 'another-secret-0123456789abcdef'))).statusCode).toBe(401);
    expect((await details(valid('service'))).json().error.code).toBe('FORBIDDEN');
    const answer = await details(valid('admin'));
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({ status: 'up', findings: { open: 0 }, stuck: { processingJobs: 0, overdueHolds: 0 } });
    expect(t.app.routeList.find((route) => route.url === '/health/details')?.access).toBe('admin');
  });

  it('leaves health open on both ports, and metrics and the API docs open on the admin port only', async () => {
    for (const url of ['/health/live', '/health/ready']) {
      expect({ url, status: (await t.app.inject({ method: 'GET', url })).statusCode }).toEqual({ url, status: 200 });
      expect({ url, status: (await t.admin(url)).status }).toEqual({ url, status: 200 });
    }
    for (const url of ['/metrics', '/docs/json', '/docs', '/docs/static/index.html']) {
      expect({ url, status: (await t.app.inject({ method: 'GET', url })).statusCode }).toEqual({ url, status: 404 });
      expect({ url, status: (await t.admin(url)).status }).toEqual({ url, status: 200 });
    }
  });
});

/** Claims of a well-formed admin token for the matrix app, with `changes` laid over them (undefined removes one). */
function claims(changes: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    sub: 'matrix-admin',
    role: 'admin',
    iss: issuer,
    aud: audience,
    iat: epochSeconds(),
    exp: epochSeconds(600),
    ...changes,
  };
  return Object.fromEntries(Object.entries(base).filter(([, value]) => value !== undefined));
}
const hs256: Signing = { hmac: 'sha256', secret: testJwtSecret };
const rs256 = (key: KeyObject): Signing => ({ key });

// Every token here must get 401 on every route; each is a way in that the service must not open. Tokens are minted
// when their test runs, so their times stay as meant however long the file took to get there.
const refused: [string, () => string][] = [
  ['alg none, unsigned', () => craftToken({ alg: 'none' }, claims(), 'unsigned')],
  ['alg none with an HS256 signature', () => craftToken({ alg: 'none' }, claims(), hs256)],
  ['HS512 with the right secret', () => craftToken({ alg: 'HS512' }, claims(), { hmac: 'sha512', secret: testJwtSecret })],
  ['HS384 with the right secret', () => craftToken({ alg: 'HS384' }, claims(), { hmac: 'sha384', secret: testJwtSecret })],
  ['alg RS256 over an HMAC with the HS secret', () => craftToken({ alg: 'RS256' }, claims(), hs256)],
  ['HS256 with the RS256 public key as its secret', () => craftToken({ alg: 'HS256' }, claims(), { hmac: 'sha256', secret: rsaPem })],
  ['RS256 signed by a key that is not configured', () => craftToken({ alg: 'RS256' }, claims(), rs256(otherRsa.privateKey))],
  ['EdDSA when no Ed25519 key is configured', () => craftToken({ alg: 'EdDSA' }, claims(), { key: ed.privateKey })],
  ['HS256 with another secret', () => craftToken({ alg: 'HS256' }, claims(), { hmac: 'sha256', secret: 'another-secret-0123456789abcdef-xyz' })],
  ['no exp', () => craftToken({ alg: 'HS256' }, claims({ exp: undefined }), hs256)],
  ['expired longer ago than the clock skew', () => craftToken({ alg: 'HS256' }, claims({ exp: epochSeconds(-120) }), hs256)],
  ['nbf further ahead than the clock skew', () => craftToken({ alg: 'HS256' }, claims({ nbf: epochSeconds(120) }), hs256)],
  ['a wrong iss', () => craftToken({ alg: 'HS256' }, claims({ iss: 'https://evil.example.com' }), hs256)],
  ['no iss', () => craftToken({ alg: 'HS256' }, claims({ iss: undefined }), hs256)],
  ['a wrong aud', () => craftToken({ alg: 'HS256' }, claims({ aud: 'another-service' }), hs256)],
  ['no aud', () => craftToken({ alg: 'HS256' }, claims({ aud: undefined }), hs256)],
  ['role "Admin"', () => craftToken({ alg: 'HS256' }, claims({ role: 'Admin' }), hs256)],
  ['role "ADMIN"', () => craftToken({ alg: 'HS256' }, claims({ role: 'ADMIN' }), hs256)],
  ['role " admin"', () => craftToken({ alg: 'HS256' }, claims({ role: ' admin' }), hs256)],
  ['role "Service"', () => craftToken({ alg: 'HS256' }, claims({ role: 'Service' }), hs256)],
  ['role ["admin"]', () => craftToken({ alg: 'HS256' }, claims({ role: ['admin'] }), hs256)],
  ['no role', () => craftToken({ alg: 'HS256' }, claims({ role: undefined }), hs256)],
  ['a sub with NUL', () => craftToken({ alg: 'HS256' }, claims({ sub: 'ops\u0000admin' }), hs256)],
  ['a sub with a lone surrogate', () => craftToken({ alg: 'HS256' }, claims({ sub: 'ops\ud800' }), hs256)],
  ['an empty sub', () => craftToken({ alg: 'HS256' }, claims({ sub: '' }), hs256)],
  ['a sub of 201 characters', () => craftToken({ alg: 'HS256' }, claims({ sub: 'x'.repeat(201) }), hs256)],
  ['no signature part', () => craftToken({ alg: 'HS256' }, claims(), hs256).split('.').slice(0, 2).join('.')],
  ['a header that is not JSON', () => `${Buffer.from('{alg').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.x`],
];

// And these must pass on every route: the verifier refuses nothing it should take.
const accepted: [string, () => string][] = [
  ['HS256 with iss and aud', () => craftToken({ alg: 'HS256' }, claims(), hs256)],
  ['HS256 expired within the clock skew', () => craftToken({ alg: 'HS256' }, claims({ exp: epochSeconds(-5) }), hs256)],
  ['HS256 with nbf within the clock skew', () => craftToken({ alg: 'HS256' }, claims({ nbf: epochSeconds(10) }), hs256)],
  ['HS256 with aud among several', () => craftToken({ alg: 'HS256' }, claims({ aud: ['billing', audience] }), hs256)],
  ['RS256 signed by the configured key', () => craftToken({ alg: 'RS256' }, claims(), rs256(rsa.privateKey))],
  ['RS256 naming a kid, signed by the configured key', () => craftToken({ alg: 'RS256', kid: 'issuer-2025' }, claims(), rs256(rsa.privateKey))],
];

describe('token variants × every operation of /docs/json', () => {
  let operations: ApiOperation[];
  beforeAll(async () => {
    operations = apiOperations(await apiDocument(t));
  });

  /** Calls every operation (but those in `skip`) with the token and lists those whose answer `check` rejects. */
  async function misfitsWith(
    token: string,
    check: (status: number, code: string | undefined) => boolean,
    skip: ReadonlySet<string> = new Set(),
  ): Promise<string[]> {
    const failures: string[] = [];
    for (const operation of operations.filter((candidate) => !skip.has(candidate.name))) {
      const response = await t.app.inject(injectOptions(operation, wellFormedCall(operation), { authorization: `Bearer ${token}` }));
      const code = String(response.headers['content-type'] ?? '').includes('json') ? response.json<{ error?: { code?: string } }>().error?.code : undefined;
      if (!check(response.statusCode, code)) failures.push(`${operation.name} -> ${response.statusCode} ${code ?? ''}`.trim());
    }
    return failures;
  }

  it('covers every API operation', () => {
    expect(operations.map((operation) => operation.name).length).toBe(new Set(apiRoutes().map(name)).size);
  });

  it.each(refused)('answers 401 UNAUTHORIZED to a token with %s on every operation', async (_what, token) => {
    expect(await misfitsWith(token(), (status, code) => status === 401 && code === 'UNAUTHORIZED')).toEqual([]);
  });

  it.each(accepted)('lets a token with %s through every operation without a 5xx', async (_what, token) => {
    expect(await misfitsWith(token(), (status) => status !== 401 && status !== 403 && status < 500, streamingRoutes)).toEqual([]);
  });

  it('says why a token was refused without echoing it', async () => {
    const expired = craftToken({ alg: 'HS256' }, claims({ exp: epochSeconds(-120) }), hs256);
    const response = await t.app.inject({ method: 'GET', url: '/api/v1/warehouses', headers: { authorization: `Bearer ${expired}` } });
    expect(response.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: 'The token has expired' } });
    const noExp = craftToken({ alg: 'HS256' }, claims({ exp: undefined }), hs256);
    const missing = await t.app.inject({ method: 'GET', url: '/api/v1/warehouses', headers: { authorization: `Bearer ${noExp}` } });
    expect(missing.json().error.message).toMatch(/exp/);
    expect(missing.body).not.toContain(noExp);
  });
});

describe('keys from a JWKS file, without an HS256 secret', () => {
  let jwks: TestApp;
  const jwk = (key: KeyObject, extra: Record<string, unknown>) => ({ ...key.export({ format: 'jwk' }), ...extra });
  beforeAll(async () => {
    const file = path.join(scratch, 'jwks.json');
    await writeFile(
      file,
      JSON.stringify({
        keys: [
          jwk(rsa.publicKey, { kid: 'rsa-1', use: 'sig', alg: 'RS256' }),
          jwk(ed.publicKey, { kid: 'ed-1' }),
          jwk(otherRsa.publicKey, { kid: 'enc-1', use: 'enc' }),
        ],
      }),
    );
    jwks = await startTestApp('auth-jwks', { env: { JWT_SECRET: '', JWT_JWKS_FILE: file } });
  });
  afterAll(async () => jwks.close());

  const statusWith = async (token: string) =>
    (await jwks.app.inject({ method: 'GET', url: '/api/v1/warehouses', headers: { authorization: `Bearer ${token}` } })).statusCode;
  const plain = () => ({ sub: 'elsewhere', role: 'service', exp: epochSeconds(600) });

  it('takes EdDSA and RS256 tokens signed by the keys their kid names, or by the only key of their algorithm', async () => {
    expect(await statusWith(craftToken({ alg: 'EdDSA', kid: 'ed-1' }, plain(), { key: ed.privateKey }))).toBe(200);
    expect(await statusWith(craftToken({ alg: 'EdDSA' }, plain(), { key: ed.privateKey }))).toBe(200);
    expect(await statusWith(craftToken({ alg: 'RS256', kid: 'rsa-1' }, plain(), rs256(rsa.privateKey)))).toBe(200);
  });

  it('refuses a kid it does not hold, a key meant for encryption, another key, and HS256 altogether', async () => {
    expect(await statusWith(craftToken({ alg: 'EdDSA', kid: 'ed-2' }, plain(), { key: ed.privateKey }))).toBe(401);
    expect(await statusWith(craftToken({ alg: 'RS256', kid: 'enc-1' }, plain(), rs256(otherRsa.privateKey)))).toBe(401);
    expect(await statusWith(craftToken({ alg: 'EdDSA', kid: 'ed-1' }, plain(), { key: otherEd.privateKey }))).toBe(401);
    expect(await statusWith(craftToken({ alg: 'HS256' }, plain(), hs256))).toBe(401);
    expect(await statusWith(bearer('admin').authorization.slice('Bearer '.length))).toBe(401);
  });
});
