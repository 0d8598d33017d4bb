import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger';
import { startTestApp, type TestApp } from '../helpers/app';
import { bearer } from '../helpers/tokens';

const lines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    done();
  },
});

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('logging', { logger: createLogger({ LOG_LEVEL: 'trace' }, sink) });
});
afterAll(async () => t.close());

describe('request logs', () => {
  it('write one line per request with its id, route, status and caller, and never the token', async () => {
    const admin = bearer('admin', 'ops-7');
    const token = admin.authorization.slice('Bearer '.length);
    const forged = bearer('admin', 'x', 'another-secret-0123456789abcdef').authorization;
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/products',
      headers: { ...admin, 'x-request-id': 'req-ok' },
      payload: { id: 'l-1', sku: 'L-1', name: 'Log' },
    });
    await t.app.inject({ method: 'GET', url: '/api/v1/products', headers: { authorization: forged, 'x-request-id': 'req-forged' } });
    await t.app.inject({ method: 'POST', url: '/api/v1/products', headers: { ...admin, 'x-request-id': 'req-bad' }, payload: { token, id: 'bad id' } });

    const text = lines.join('\n');
    expect(text).not.toContain(token);
    expect(text).not.toContain(forged.slice('Bearer '.length));
    expect(text.toLowerCase()).not.toContain('bearer');

    const completed = lines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'request completed');
    expect(completed.map((entry) => [entry.reqId, entry.route, entry.status, entry.caller])).toEqual([
      ['req-ok', '/api/v1/products', 201, 'ops-7'],
      ['req-forged', '/api/v1/products', 401, undefined],
      ['req-bad', '/api/v1/products', 400, 'ops-7'],
    ]);
  });
});
