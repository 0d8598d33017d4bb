import { connect } from 'node:net';
import { startTestApp, type TestApp } from '../helpers/app';
import { service } from '../helpers/inventory';

/**
 * The HTTP edge on a real socket: what Node's parser and fastify's router refuse before any route
 * runs still answers in the documented error shape, without repeating what the caller sent.
 */

let t: TestApp;
let port: number;
beforeAll(async () => {
  t = await startTestApp('http-edge');
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  port = (t.app.server.address() as { port: number }).port;
});
afterAll(async () => t.close());

type RawAnswer = { status: number; headers: Record<string, string>; body: string; closed: boolean };

/** Writes raw bytes to the server and reads the answer until the server closes or `waitMs` passes. */
function rawRequest(bytes: string, waitMs = 2000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let closed = false;
    const finish = () => {
      const [head = '', ...rest] = received.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const headers = Object.fromEntries(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n'), closed });
    };
    const timer = setTimeout(() => {
      socket.destroy();
      finish();
    }, waitMs);
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      finish();
    });
    socket.write(bytes, 'latin1');
  });
}

function expectErrorShape(answer: { status: number; body: string }, status: number, code: string) {
  expect(answer.status).toBe(status);
  const body = JSON.parse(answer.body) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
}

describe('refusals before any route runs', () => {
  it('answers headers larger than Node allows with 431 HEADERS_TOO_LARGE and closes the connection', async () => {
    const answer = await rawRequest(`GET /health/live HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`);
    expectErrorShape(answer, 431, 'HEADERS_TOO_LARGE');
    expect(answer.closed).toBe(true);
  });

  it('answers bytes that are not HTTP with 400 in the error shape', async () => {
    const answer = await rawRequest('GARBAGE\u0000 / NOT-HTTP\r\n\r\n');
    expectErrorShape(answer, 400, 'VALIDATION_FAILED');
  });

  it('answers a path segment that is not UTF-8 with 400 and does not repeat the URL', async () => {
    const answer = await rawRequest('GET /api/v1/products/%FF%FEmarker HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expectErrorShape(answer, 400, 'VALIDATION_FAILED');
    expect(answer.body).not.toContain('marker');
  });

  it('answers an overlong path parameter with 414 URI_TOO_LONG and does not repeat it', async () => {
    const response = await t.app.inject({ method: 'GET', url: `/api/v1/products/${'marker'.repeat(30)}`, headers: service });
    expectErrorShape({ status: response.statusCode, body: response.body }, 414, 'URI_TOO_LONG');
    expect(response.body).not.toContain('marker');
  });

  it('answers an unknown URL with 404 NOT_FOUND and does not repeat it', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/v1/<script>marker</script>' });
    expectErrorShape({ status: response.statusCode, body: response.body }, 404, 'NOT_FOUND');
    expect(response.body).not.toContain('marker');
  });

  it.each([
    ['text/plain', 'reserve everything', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['application/json', '{"orderId": "o-1", ', 400, 'VALIDATION_FAILED'],
    ['application/json', '{"__proto__": {"admin": true}}', 400, 'VALIDATION_FAILED'],
    ['application/json', '', 400, 'VALIDATION_FAILED'],
  ])('answers a %s body %j with %i %s, quoting none of it', async (contentType, payload, status, code) => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/inventory/reserve',
      headers: { ...service, 'content-type': contentType },
      payload,
    });
    expectErrorShape({ status: response.statusCode, body: response.body }, status, code);
    if (payload) expect(response.body).not.toContain(payload);
  });

  it('answers a body over BODY_LIMIT_BYTES with 413 PAYLOAD_TOO_LARGE', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/inventory/reserve',
      headers: { ...service, 'content-type': 'application/json' },
      payload: JSON.stringify({ orderId: 'o-1', padding: 'x'.repeat(t.config.BODY_LIMIT_BYTES) }),
    });
    expectErrorShape({ status: response.statusCode, body: response.body }, 413, 'PAYLOAD_TOO_LARGE');
  });
});

describe('the admin port', () => {
  it('serves /metrics and /docs; the public port answers 404 for them, as for any unknown path', async () => {
    for (const path of ['/metrics', '/docs/json', '/docs/static/index.html']) {
      const open = await fetch(`http://127.0.0.1:${port}${path}`);
      expect({ path, status: open.status, body: await open.json() }).toEqual({
        path,
        status: 404,
        body: { error: { code: 'NOT_FOUND', message: 'No route GET matches this path' } },
      });
      expect({ path, status: (await t.admin(path)).status }).toEqual({ path, status: 200 });
    }
  });

  it('serves the API too, with the same auth and headers', async () => {
    expect((await t.admin('/api/v1/warehouses')).status).toBe(401);
    const answer = await t.admin('/api/v1/warehouses', { headers: service });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    expect(answer.headers.get('cache-control')).toBe('no-store');
  });
});
