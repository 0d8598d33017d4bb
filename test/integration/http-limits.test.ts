import { connect, type Socket } from 'node:net';
import { startTestApp, type TestApp } from '../helpers/app';
import { bearer } from '../helpers/tokens';

/**
 * Limits of the HTTP edge, on real sockets where timing matters: slow clients are dropped by the
 * request and header timeouts, idle keep-alive connections closed, request ids taken only when
 * safe, security headers on every answer, and per-caller rate limits answered with 429.
 */

type Answer = { status: number; headers: Record<string, string>; body: string };

function parseAnswer(raw: string): Answer {
  const [head = '', ...rest] = raw.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
}

/** A client that sends `head` at once, then `drip` one character every `everyMs`, until the server closes the connection. */
function dripFeed(port: number, head: string, drip: string, everyMs: number): Promise<{ closedAfterMs: number; answer: Answer; sent: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket: Socket = connect(port, '127.0.0.1');
    let received = '';
    let sent = 0;
    const timer = setInterval(() => {
      if (socket.writable && sent < drip.length) socket.write(drip[sent++]!);
    }, everyMs);
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ closedAfterMs: Date.now() - started, answer: parseAnswer(received), sent });
    });
    socket.once('connect', () => socket.write(head));
    socket.once('error', reject);
  });
}

describe('timeouts', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await startTestApp('http-timeouts', {
      env: { REQUEST_TIMEOUT_MS: '2000', HEADERS_TIMEOUT_MS: '1000', KEEP_ALIVE_TIMEOUT_MS: '1000', CONNECTION_TIMEOUT_MS: '5000' },
    });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (t.app.server.address() as { port: number }).port;
  });
  afterAll(async () => t.close());

  it('drops a client that sends its headers a byte at a time, with 408 REQUEST_TIMEOUT, once HEADERS_TIMEOUT_MS has passed', async () => {
    const { closedAfterMs, answer, sent } = await dripFeed(port, 'GET /api/v1/warehouses HTTP/1.1\r\nHost: x\r\n', 'X-Slow: '.padEnd(400, 'a'), 300);
    expect(closedAfterMs).toBeGreaterThanOrEqual(1000);
    expect(closedAfterMs).toBeLessThan(4000);
    expect(sent).toBeLessThan(20);
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body)).toEqual({ error: { code: 'REQUEST_TIMEOUT', message: 'The request did not arrive in time' } });
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
  });

  it('drops an authenticated client that sends its body a byte at a time, once REQUEST_TIMEOUT_MS has passed', async () => {
    const head = [
      'POST /api/v1/inventory/check-availability HTTP/1.1',
      'Host: x',
      `Authorization: ${bearer('service', 'slow-loris').authorization}`,
      'Content-Type: application/json',
      'Content-Length: 400',
      '',
      '',
    ].join('\r\n');
    const { closedAfterMs, answer, sent } = await dripFeed(port, head, `{"items":[${' '.repeat(380)}]}`, 300);
    expect(closedAfterMs).toBeGreaterThanOrEqual(2000);
    expect(closedAfterMs).toBeLessThan(5000);
    expect(sent).toBeLessThan(25);
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body).error.code).toBe('REQUEST_TIMEOUT');
  });

  it('closes a keep-alive connection left idle for KEEP_ALIVE_TIMEOUT_MS', async () => {
    const { closedAfterMs, answer } = await dripFeed(port, 'GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n', '', 1000);
    expect(answer.status).toBe(200);
    expect(closedAfterMs).toBeGreaterThanOrEqual(900);
    expect(closedAfterMs).toBeLessThan(3500);
  });
});

describe('request ids and security headers', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('http-headers');
  });
  afterAll(async () => t.close());

  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

  it('keeps a short safe x-request-id from the client', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'checkout.7f3a:retry-2' } });
    expect(response.headers['x-request-id']).toBe('checkout.7f3a:retry-2');
  });

  it.each([
    ['3,000 characters', 'a'.repeat(3000)],
    ['65 characters', 'a'.repeat(65)],
    ['a space', 'two words'],
    ['a line break', 'x\r\nset-cookie: a=b'],
    ['NUL', 'a\u0000b'],
    ['markup', '<script>alert(1)</script>'],
  ])('replaces an x-request-id with %s by a generated one', async (_what, given) => {
    const response = await t.app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': given } });
    expect(response.headers['x-request-id']).toMatch(uuid);
  });

  it.each([
    ['an API answer', { method: 'GET', url: '/api/v1/warehouses', headers: bearer('service') }],
    ['a 401', { method: 'GET', url: '/api/v1/warehouses' }],
    ['a 400 of validation', { method: 'GET', url: '/api/v1/warehouses?limit=0', headers: bearer('service') }],
    ['a 404 of an unknown URL', { method: 'GET', url: '/nowhere' }],
    ['a 400 of a URL that is not UTF-8', { method: 'GET', url: '/api/v1/products/%FF' }],
    ['a health answer', { method: 'GET', url: '/health/live' }],
  ] as const)('puts the security headers on %s', async (_what, request) => {
    const response = await t.app.inject(request);
    expect(response.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    });
  });
});

describe('rate limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('http-rate', {
      env: { RATE_LIMIT_MAX: '5', RATE_LIMIT_ANONYMOUS_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000', TRUST_PROXY: '127.0.0.1' },
    });
  });
  afterAll(async () => t.close());

  const get = (headers: Record<string, string> = {}, url = '/api/v1/warehouses') => t.app.inject({ method: 'GET', url, headers });

  it('lets a caller make RATE_LIMIT_MAX calls per window, then answers 429 RATE_LIMITED with Retry-After', async () => {
    const caller = bearer('service', 'burst-a');
    const remaining: string[] = [];
    for (let call = 0; call < 5; call += 1) {
      const response = await get(caller);
      expect(response.statusCode).toBe(200);
      remaining.push(String(response.headers['x-ratelimit-remaining']));
    }
    expect(remaining).toEqual(['4', '3', '2', '1', '0']);
    const limited = await get(caller);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toMatch(/^application\/json/);
    expect(limited.headers['x-content-type-options']).toBe('nosniff');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.json()).toEqual({
      error: {
        code: 'RATE_LIMITED',
        message: `Too many requests; try again in ${retryAfter} s`,
        details: { retryAfterSeconds: retryAfter, limit: 5, windowSeconds: 60 },
      },
    });
  });

  it('counts each caller by its token subject: another sub from the same address is not limited', async () => {
    expect((await get(bearer('service', 'burst-b'))).statusCode).toBe(200);
  });

  it('counts calls without a valid token by address, against the smaller anonymous limit', async () => {
    const from = { 'x-forwarded-for': '203.0.113.7' };
    const statuses = [];
    for (let call = 0; call < 3; call += 1) statuses.push((await get(from)).statusCode);
    statuses.push((await get({ ...from, authorization: 'Bearer forged.token.here' })).statusCode);
    expect(statuses).toEqual([401, 401, 401, 429]);
    // another client address (behind the trusted proxy) has its own budget
    expect((await get({ 'x-forwarded-for': '203.0.113.8' })).statusCode).toBe(401);
  });

  it('never limits health probes', async () => {
    const from = { 'x-forwarded-for': '203.0.113.9' };
    for (let call = 0; call < 10; call += 1) expect((await get(from, '/health/live')).statusCode).toBe(200);
  });
});
