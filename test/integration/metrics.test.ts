import { startTestApp, type TestApp } from '../helpers/app';
import { bearer } from '../helpers/tokens';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('metrics');
});
afterAll(async () => t.close());

const admin = bearer('admin', 'ops-1');

async function scrape(): Promise<string> {
  const response = await t.app.inject({ method: 'GET', url: '/metrics' });
  expect(response.statusCode).toBe(200);
  return response.body;
}

/** The value of one sample, e.g. `stockroom_oversold_lots` or `name{label="x"}`; 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** Scrapes until `series` reaches `expected` (gauges counted from Postgres refresh at most once a second). */
async function eventually(series: string, expected: number): Promise<void> {
  const deadline = Date.now() + 5000;
  let value = sample(await scrape(), series);
  while (value !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = sample(await scrape(), series);
  }
  expect({ series, value }).toEqual({ series, value: expected });
}

describe('GET /metrics', () => {
  it('serves the Prometheus text format without a token, with every metric of the service', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    for (const name of [
      'stockroom_http_requests_total',
      'stockroom_http_request_duration_seconds',
      'stockroom_allocation_jobs_total',
      'stockroom_allocation_accept_to_result_seconds',
      'stockroom_allocation_job_retries_total',
      'stockroom_dead_letters_total',
      'stockroom_queue_depth',
      'stockroom_lot_lock_wait_seconds',
      'stockroom_reservations',
      'stockroom_reservations_expired_total',
      'stockroom_oversold_lots',
      'stockroom_process_cpu_seconds_total',
    ]) {
      expect(response.body).toContain(`# TYPE ${name} `);
    }
  });

  it('counts requests by route pattern and status, not by raw URL', async () => {
    const created = 'stockroom_http_requests_total{method="POST",route="/api/v1/products",status="201"}';
    const missing = 'stockroom_http_requests_total{method="GET",route="/api/v1/products/:id",status="404"}';
    const before = await scrape();
    await t.app.inject({ method: 'POST', url: '/api/v1/products', headers: admin, payload: { id: 'm-1', sku: 'M-1', name: 'Meter' } });
    await t.app.inject({ method: 'GET', url: '/api/v1/products/m-404', headers: admin });
    await t.app.inject({ method: 'GET', url: '/api/v1/products/m-405', headers: admin });
    const after = await scrape();
    expect(sample(after, created) - sample(before, created)).toBe(1);
    expect(sample(after, missing) - sample(before, missing)).toBe(2);
    expect(after).not.toContain('m-404');
    expect(sample(after, 'stockroom_http_request_duration_seconds_count{method="GET",route="/api/v1/products/:id"}')).toBeGreaterThanOrEqual(2);
  });

  it('counts URLs that match no route under one label', async () => {
    await t.app.inject({ method: 'GET', url: '/no/such/path/123' });
    const text = await scrape();
    expect(sample(text, 'stockroom_http_requests_total{method="GET",route="unmatched",status="404"}')).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain('/no/such/path');
  });

  it('counts reservations by status from the database and keeps the oversell check at zero', async () => {
    await t.db.pool.query(
      `insert into reservations (id, order_id, status, expires_at)
       select gen_random_uuid(), 'order-' || n, case when n <= 3 then 'RESERVED' else 'EXPIRED' end, now() + interval '1 hour'
       from generate_series(1, 5) as n`,
    );
    await eventually('stockroom_reservations{status="RESERVED"}', 3);
    await eventually('stockroom_reservations{status="EXPIRED"}', 2);
    expect(sample(await scrape(), 'stockroom_oversold_lots')).toBe(0);
  });
});
