import pino from 'pino';
import { createPool } from '../../src/db/client';
import { readinessProbe } from '../../src/operations/readiness';
import { startWorkerServer } from '../../src/operations/worker-server';
import { startWorkers } from '../../src/runners';
import type { Runner } from '../../src/runners/runner';
import { waitFor, waitForJob } from '../helpers/allocations';
import { startTestApp, type TestApp } from '../helpers/app';
import { bearer } from '../helpers/tokens';

let t: TestApp;
let runners: Runner[];
beforeAll(async () => {
  t = await startTestApp('metrics', { broker: true });
  // The worker role in the same process: its job, lock and queue metrics land in the registry served here.
  runners = await startWorkers({ config: t.config, pool: t.db.pool, logger: pino({ level: 'silent' }), amqp: t.amqp! });
});
afterAll(async () => {
  await Promise.all(runners.map((runner) => runner.stop()));
  await t.close();
});

const admin = bearer('admin', 'ops-1');

async function scrape(): Promise<string> {
  const response = await t.admin('/metrics');
  expect(response.status).toBe(200);
  return response.text();
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
  it('serves the Prometheus text format on the admin port without a token, with every metric of the service', async () => {
    const response = await t.admin('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
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
      'stockroom_transfers_overdue',
      'stockroom_events_published_total',
      'stockroom_event_publish_failures_total',
      'process_cpu_seconds_total',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
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

  it('moves the job, latency, lock-wait, queue-depth and reservation metrics when allocation jobs run', async () => {
    await t.app.inject({ method: 'POST', url: '/api/v1/warehouses', headers: admin, payload: { id: 'wh-m', code: 'WHM', name: 'Metrics' } });
    await t.app.inject({ method: 'POST', url: '/api/v1/products', headers: admin, payload: { id: 'm-2', sku: 'M-2', name: 'Gauge' } });
    const receipt = { productId: 'm-2', warehouseId: 'wh-m', quantity: 10, type: 'RECEIPT', reason: 'metrics' };
    expect((await t.app.inject({ method: 'PUT', url: '/api/v1/inventory/adjust', headers: admin, payload: { adjustments: [receipt] } })).statusCode).toBe(200);
    const before = await scrape();

    const job = (mode: string, quantity: number, referenceId: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/allocations',
        headers: admin,
        payload: { items: [{ productId: 'm-2', quantity }], mode, referenceId, referenceType: 'order' },
      });
    const reserved = (await job('reserve', 4, 'order-m-1')).json().allocationId;
    const failed = (await job('allocate', 50, 'order-m-2')).json().allocationId;
    expect((await waitForJob(t.app, reserved)).status).toBe('succeeded');
    expect((await waitForJob(t.app, failed)).status).toBe('failed');

    const after = await scrape();
    const moved = (series: string) => sample(after, series) - sample(before, series);
    expect(moved('stockroom_allocation_jobs_total{status="queued"}')).toBe(2);
    expect(moved('stockroom_allocation_jobs_total{status="succeeded"}')).toBe(1);
    expect(moved('stockroom_allocation_jobs_total{status="failed"}')).toBe(1);
    expect(moved('stockroom_allocation_accept_to_result_seconds_count')).toBe(2);
    expect(moved('stockroom_lot_lock_wait_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(moved('stockroom_http_requests_total{method="POST",route="/api/v1/allocations",status="202"}')).toBe(2);
    await eventually('stockroom_reservations{status="RESERVED"}', 1);
    expect(sample(await scrape(), 'stockroom_oversold_lots')).toBe(0);
    // The worker reads the depth of its queues from the broker every few seconds.
    await waitFor(
      'the queue depth',
      async () => ((await scrape()).includes(`stockroom_queue_depth{queue="${t.config.ALLOCATION_QUEUE}"} 0`) ? true : undefined),
      15_000,
    );
  });
});

describe('the server of a worker-only process', () => {
  const logger = pino({ level: 'silent' });

  it('serves /metrics, /health/live and /health/ready (database and broker up), and 404 elsewhere', async () => {
    const server = await startWorkerServer('127.0.0.1', 0, { logger, probe: readinessProbe({ pool: t.db.pool, amqp: t.amqp, logger }), timeouts: t.config });
    try {
      expect(server.port).toBeGreaterThan(0);
      const base = `http://127.0.0.1:${server.port}`;
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
      expect([metrics.headers.get('x-content-type-options'), metrics.headers.get('cache-control')]).toEqual(['nosniff', 'no-store']);
      const text = await metrics.text();
      expect(text).toContain('# TYPE stockroom_allocation_jobs_total counter');
      expect(sample(text, 'stockroom_database_up')).toBe(1);
      expect(sample(text, 'stockroom_broker_up')).toBe(1);
      const live = await fetch(`${base}/health/live`);
      expect([live.status, await live.json()]).toEqual([200, { status: 'up' }]);
      const ready = await fetch(`${base}/health/ready`);
      expect([ready.status, await ready.json()]).toEqual([200, { status: 'up', checks: { database: { status: 'up' }, broker: { status: 'up' } } }]);
      const other = await fetch(`${base}/other`);
      expect([other.status, ((await other.json()) as { error: { code: string } }).error.code]).toEqual([404, 'NOT_FOUND']);
      expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.close();
    }
  });

  it('is not ready while a dependency is down, says which without the driver error, and reports it in the up gauges', async () => {
    const lost = createPool('postgres://postgres@127.0.0.1:1/none', 1);
    const server = await startWorkerServer('127.0.0.1', 0, { logger, probe: readinessProbe({ pool: lost, amqp: null, logger }), timeouts: t.config });
    try {
      const ready = await fetch(`http://127.0.0.1:${server.port}/health/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.text()).toBe(JSON.stringify({ status: 'down', checks: { database: { status: 'down' }, broker: { status: 'down' } } }));
      expect((await fetch(`http://127.0.0.1:${server.port}/health/live`)).status).toBe(200);
      const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      expect(sample(text, 'stockroom_database_up')).toBe(0);
      expect(sample(text, 'stockroom_broker_up')).toBe(0);
    } finally {
      await server.close();
      await lost.end();
    }
  });

  it('stays quiet instead of failing when its port is taken', async () => {
    const probe = readinessProbe({ pool: t.db.pool, amqp: t.amqp, logger });
    const server = await startWorkerServer('127.0.0.1', 0, { logger, probe, timeouts: t.config });
    try {
      const second = await startWorkerServer('127.0.0.1', server.port!, { logger, probe, timeouts: t.config });
      expect(second.port).toBeNull();
      await second.close();
    } finally {
      await server.close();
    }
  });
});
