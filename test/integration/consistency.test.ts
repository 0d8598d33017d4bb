import pino from 'pino';
import { Writable } from 'node:stream';
import { v7 as uuidv7 } from 'uuid';
import { connectAmqp, type AmqpClient } from '../../src/amqp/connection';
import { withTransaction } from '../../src/db/client';
import { actingFor } from '../../src/domain/ownership';
import { runConsistencyCheckIfFree } from '../../src/inventory/consistency/check';
import { applyOrderEvent } from '../../src/inventory/reservations/order-events';
import { startAllocationWorker } from '../../src/runners/allocation-worker';
import { startConsistencyMonitor } from '../../src/runners/consistency-monitor';
import type { Runner } from '../../src/runners/runner';
import { startTestApp, type TestApp } from '../helpers/app';
import { enqueue, waitForJob } from '../helpers/allocations';
import { eventually } from '../helpers/event-tap';
import { inventoryApi } from '../helpers/inventory-api';
import { admin, receive, seedCatalogue, service } from '../helpers/inventory';
import { ledgerDifferences, reservationBookDifferences } from '../helpers/stock';

let t: TestApp;
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const clients: AmqpClient[] = [];

beforeAll(async () => {
  // long holds: older than an hour; a job is stuck after a minute without change
  t = await startTestApp('consistency', { broker: true, env: { CONSISTENCY_LONG_HOLD_HOURS: '1', CONSISTENCY_STUCK_JOB_AFTER_MS: '60000' } });
  await seedCatalogue(t, { warehouses: ['wh-1'], products: ['p-1', 'p-2', 'p-3'] });
  await receive(t, 'p-1', 'wh-1', 100);
  await receive(t, 'p-2', 'wh-1', 100);
});
afterEach(async () => {
  // every test leaves the ledger and the reservation book whole: corruptions are repaired or undone
  expect(await ledgerDifferences(t.db.pool)).toEqual([]);
  expect(await reservationBookDifferences(t.db.pool)).toEqual([]);
});
afterAll(async () => {
  for (const client of clients) await client.close();
  await t.close();
});

const api = () => inventoryApi(t.app);
const adminCall = (method: 'GET' | 'POST' | 'DELETE', url: string) => t.app.inject({ method, url: `/api/v1${url}`, headers: admin });

async function reserve(orderId: string, quantity = 5, productId = 'p-1'): Promise<string> {
  const response = await api().reserve({ orderId, items: [{ productId, quantity, warehouseId: 'wh-1' }] });
  expect(response.statusCode).toBe(201);
  return response.json().reservationId;
}

async function check(): Promise<Record<string, any>> {
  const response = await adminCall('POST', '/admin/consistency/check');
  expect(response.statusCode).toBe(200);
  return response.json();
}

async function openFindingOf(kind: string, subjectId: string): Promise<Record<string, any> | undefined> {
  const response = await adminCall('GET', `/admin/consistency?kind=${kind}&open=true&subjectId=${subjectId}`);
  expect(response.statusCode).toBe(200);
  return response.json().items[0];
}

async function detectedEvents(findingId: string): Promise<Record<string, any>[]> {
  const { rows } = await t.db.pool.query(`select payload from outbox_events where event_type = 'ConsistencyIssueDetected' and payload ->> 'findingId' = $1`, [
    findingId,
  ]);
  return rows.map((row) => row.payload);
}

/** The open-findings gauge of a kind, as /metrics serves it (counted at most once a second). */
async function openGauge(kind: string): Promise<number | undefined> {
  const text = await (await t.admin('/metrics')).text();
  const line = text.split('\n').find((entry) => entry.startsWith(`stockroom_consistency_findings_open{kind="${kind}"}`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

async function expectGauge(kind: string, value: number): Promise<void> {
  await eventually(async () => (await openGauge(kind)) === value, 5000, `stockroom_consistency_findings_open{kind="${kind}"} to be ${value}`);
}

async function statusOf(reservationId: string): Promise<string> {
  return (await t.db.pool.query('select status from reservations where id = $1', [reservationId])).rows[0].status;
}

/** Checks that a finding of `kind` about `subjectId` is stored once, listed, counted and announced. */
async function expectFound(kind: string, subjectId: string): Promise<Record<string, any>> {
  const answer = await check();
  expect(answer.openByKind[kind]).toBeGreaterThanOrEqual(1);
  expect(answer.findings.map((finding: { subjectId: string }) => finding.subjectId)).toContain(subjectId);
  const finding = await openFindingOf(kind, subjectId);
  expect(finding).toMatchObject({ kind, subjectId, open: true, resolvedAt: null });
  expect(await detectedEvents(finding!.id)).toEqual([expect.objectContaining({ type: 'ConsistencyIssueDetected', kind, subjectId, findingId: finding!.id })]);
  await expectGauge(kind, answer.openByKind[kind]);
  return finding!;
}

describe('the consistency check', () => {
  it('finds a hold past its expiry the sweeper left, keeps one finding while it lasts, and the fix expires it through the expiry use case', async () => {
    const reservationId = await reserve(`ord-${uuidv7()}`);
    await t.db.pool.query(`update reservations set expires_at = now() - interval '1 hour' where id = $1`, [reservationId]);
    const finding = await expectFound('overdue_hold', reservationId);
    expect(finding.subjectType).toBe('reservation');

    // seen again: the same finding, a later lastSeenAt, no second event
    await check();
    const again = await openFindingOf('overdue_hold', reservationId);
    expect(again!.id).toBe(finding.id);
    expect(new Date(again!.lastSeenAt).getTime()).toBeGreaterThan(new Date(finding.lastSeenAt).getTime());
    expect(await detectedEvents(finding.id)).toHaveLength(1);

    const fixed = await adminCall('POST', `/admin/consistency/${finding.id}/fix`);
    expect(fixed.statusCode).toBe(200);
    expect(fixed.json()).toMatchObject({
      result: { findingId: finding.id, outcome: 'fixed', action: 'expire' },
      finding: { id: finding.id, open: false, resolution: 'fixed by ops-1: expire' },
    });
    expect(await statusOf(reservationId)).toBe('EXPIRED');
    const expired = await t.db.pool.query(`select count(*)::int as count from outbox_events where event_type = 'ReservationExpired' and aggregate_id = $1`, [
      reservationId,
    ]);
    expect(expired.rows[0].count).toBe(1);
    const history = await t.db.pool.query(`select actor from reservation_status_history where reservation_id = $1 and to_status = 'EXPIRED'`, [reservationId]);
    expect(history.rows).toEqual([{ actor: 'consistency-fix' }]);

    // fixed twice: nothing more to do
    const twice = await adminCall('POST', `/admin/consistency/${finding.id}/fix`);
    expect(twice.json().result.outcome).toBe('already_resolved');
    expect((await check()).openByKind.overdue_hold).toBe(0);
    await expectGauge('overdue_hold', 0);
  });

  it('resolves a finding the check no longer finds', async () => {
    const reservationId = await reserve(`ord-${uuidv7()}`);
    await t.db.pool.query(`update reservations set expires_at = now() - interval '1 hour' where id = $1`, [reservationId]);
    const finding = await expectFound('overdue_hold', reservationId);
    const swept = await adminCall('DELETE', '/admin/reservations/expired');
    expect(swept.json()).toEqual({ expired: 1 });
    await check();
    const listed = await adminCall('GET', `/admin/consistency?subjectId=${reservationId}&open=false`);
    expect(listed.json().items).toEqual([
      expect.objectContaining({ id: finding.id, open: false, resolution: 'no longer found by the consistency check', resolvedAt: expect.any(String) }),
    ]);
  });

  it('finds a hold of an order an OrderCancelled event cancelled, and the fix releases it through the release use case', async () => {
    const orderId = `ord-${uuidv7()}`;
    await reserve(orderId);
    const ctx = { now: new Date(), actor: 'order-events', scope: actingFor('checkout'), config: t.config };
    await withTransaction(t.db.pool, (tx) => applyOrderEvent(tx, { eventId: uuidv7(), type: 'OrderCancelled', orderId }, ctx));
    // reserved again for the cancelled order, through the API
    const held = await reserve(orderId, 3);
    const finding = await expectFound('cancelled_order_hold', held);
    expect(finding.detail).toMatchObject({ orderId, owner: 'checkout', cancelledAt: expect.any(String) });

    const fixed = await adminCall('POST', `/admin/consistency/${finding.id}/fix`);
    expect(fixed.json().result).toMatchObject({ outcome: 'fixed', action: 'release' });
    expect(await statusOf(held)).toBe('RELEASED');
    const released = await t.db.pool.query(`select payload from outbox_events where event_type = 'InventoryReleased' and aggregate_id = $1`, [held]);
    expect(released.rows).toEqual([{ payload: expect.objectContaining({ reason: 'order was cancelled (consistency fix)' }) }]);
    expect((await check()).openByKind.cancelled_order_hold).toBe(0);
  });

  it('finds a lot that disagrees with its ledger and refuses to fix it, saying why', async () => {
    const lotId = await receive(t, 'p-3', 'wh-1', 10);
    await t.db.pool.query('update inventory_items set quantity = quantity + 5 where id = $1', [lotId]);
    const finding = await expectFound('ledger_mismatch', lotId);
    expect(finding.detail).toMatchObject({ productId: 'p-3', stored: { quantity: 15 }, ledger: { quantity: 10 } });

    const refused = await adminCall('POST', `/admin/consistency/${finding.id}/fix`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('cannot be fixed automatically'),
      details: { kind: 'ledger_mismatch' },
    });
    expect((await openFindingOf('ledger_mismatch', lotId))?.id).toBe(finding.id);

    // an operator corrects the lot; the next check resolves the finding
    await t.db.pool.query('update inventory_items set quantity = quantity - 5 where id = $1', [lotId]);
    expect((await check()).openByKind.ledger_mismatch).toBe(0);
    await expectGauge('ledger_mismatch', 0);
  });

  it('finds a published job left unfinished, its message lost, and the fix publishes it again for a worker to serve once', async () => {
    const accepted = await enqueue(t.app, {
      items: [{ productId: 'p-2', quantity: 4 }],
      referenceId: `ord-${uuidv7()}`,
      referenceType: 'order',
      mode: 'allocate',
    });
    expect(accepted.statusCode).toBe(202);
    const jobId = accepted.json().allocationId;
    // published an hour ago, its message lost since: queued, untouched for an hour
    await t.db.pool.query(`update allocation_requests set published_at = now() - interval '1 hour', updated_at = now() - interval '1 hour' where id = $1`, [
      jobId,
    ]);
    const finding = await expectFound('stuck_job', jobId);
    expect(finding.subjectType).toBe('allocation');

    const fixed = await adminCall('POST', `/admin/consistency/${finding.id}/fix`);
    expect(fixed.json().result).toMatchObject({ outcome: 'fixed', action: 'requeue' });
    const amqp = await connectAmqp(t.vhost!.url, logger, { connectionName: 'consistency-worker', maxDelayMs: 500 });
    clients.push(amqp);
    await amqp.waitForConnect();
    const worker: Runner = await startAllocationWorker({ config: t.config, pool: t.db.pool, logger, amqp });
    try {
      expect((await waitForJob(t.app, jobId)).status).toBe('succeeded');
    } finally {
      await worker.stop();
    }
    const allocated = await t.db.pool.query(`select count(*)::int as count from allocation_results where allocation_id = $1`, [jobId]);
    expect(allocated.rows[0].count).toBe(1);
    expect((await check()).openByKind.stuck_job).toBe(0);
  });

  it('finds a long hold, which is not fixed automatically, and fixes the rest of an order in one call', async () => {
    const orderId = `ord-${uuidv7()}`;
    const longHeld = await reserve(orderId, 2);
    const overdue = await reserve(orderId, 2);
    await t.db.pool.query(`update reservations set created_at = now() - interval '2 hours' where id = $1`, [longHeld]);
    await t.db.pool.query(`update reservations set expires_at = now() - interval '1 hour' where id = $1`, [overdue]);
    const finding = await expectFound('long_hold', longHeld);
    const refused = await adminCall('POST', `/admin/consistency/${finding.id}/fix`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.message).toMatch(/long hold may be wanted/);

    const fixed = await adminCall('POST', `/admin/orders/${orderId}/fix-inconsistencies`);
    expect(fixed.statusCode).toBe(200);
    expect(fixed.json()).toEqual({
      orderId,
      results: [
        expect.objectContaining({ kind: 'overdue_hold', subjectId: overdue, outcome: 'fixed', action: 'expire', findingId: expect.any(String) }),
        expect.objectContaining({ kind: 'long_hold', subjectId: longHeld, outcome: 'not_fixable', findingId: finding.id }),
      ],
    });
    expect(await statusOf(overdue)).toBe('EXPIRED');
    expect(await statusOf(longHeld)).toBe('RESERVED');
    const none = await adminCall('POST', `/admin/orders/ord-nothing-wrong/fix-inconsistencies`);
    expect(none.json()).toEqual({ orderId: 'ord-nothing-wrong', results: [] });
    await api().release({ reservationId: longHeld });
    expect((await check()).openByKind).toMatchObject({ long_hold: 0, overdue_hold: 0 });
  });

  it('lists findings newest first by cursor, filtered by kind and open, and refuses bad filters', async () => {
    const first = await reserve(`ord-${uuidv7()}`, 1);
    const second = await reserve(`ord-${uuidv7()}`, 1);
    await t.db.pool.query(`update reservations set expires_at = now() - interval '1 hour' where id = any($1::uuid[])`, [[first, second]]);
    await check();
    const page1 = (await adminCall('GET', '/admin/consistency?kind=overdue_hold,long_hold&open=true&limit=1')).json();
    expect(page1.items).toHaveLength(1);
    const page2 = (await adminCall('GET', `/admin/consistency?kind=overdue_hold,long_hold&open=true&limit=1&cursor=${page1.nextCursor}`)).json();
    expect(page2.nextCursor).toBeNull();
    expect([page1.items[0].subjectId, page2.items[0].subjectId].sort()).toEqual([first, second].sort());
    expect((await adminCall('GET', '/admin/consistency?kind=bogus')).statusCode).toBe(400);
    expect((await adminCall('GET', '/admin/consistency?open=maybe')).statusCode).toBe(400);
    expect((await adminCall('POST', `/admin/consistency/${uuidv7()}/fix`)).statusCode).toBe(404);
    expect((await adminCall('DELETE', '/admin/reservations/expired')).json()).toEqual({ expired: 2 });
    expect((await adminCall('DELETE', '/admin/reservations/expired')).json()).toEqual({ expired: 0 });
    await check();
  });

  it('is admin only, and /health/details adds open findings and stuck counts to readiness', async () => {
    for (const url of ['/admin/consistency', '/admin/reservations/expired']) {
      const response = await t.app.inject({ method: url.endsWith('expired') ? 'DELETE' : 'GET', url: `/api/v1${url}`, headers: service });
      expect({ url, status: response.statusCode }).toEqual({ url, status: 403 });
    }
    expect((await t.app.inject({ method: 'GET', url: '/health/details' })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/health/details', headers: service })).statusCode).toBe(403);
    const reservationId = await reserve(`ord-${uuidv7()}`, 1);
    await t.db.pool.query(`update reservations set expires_at = now() - interval '1 hour' where id = $1`, [reservationId]);
    await check();
    const details = await t.app.inject({ method: 'GET', url: '/health/details', headers: admin });
    expect(details.statusCode).toBe(200);
    expect(details.json()).toMatchObject({
      status: 'up',
      checks: { database: { status: 'up' }, broker: { status: 'up' } },
      findings: { open: 1, byKind: { overdue_hold: 1, cancelled_order_hold: 0, ledger_mismatch: 0, stuck_job: 0, long_hold: 0, unit_mismatch: 0 } },
      stuck: { processingJobs: 0, overdueHolds: 1 },
    });
    expect((await t.app.inject({ method: 'GET', url: '/health/ready' })).json()).not.toHaveProperty('findings');
    await adminCall('DELETE', '/admin/reservations/expired');
    await check();
  });
});

describe('the consistency monitor', () => {
  /** A logger whose lines are kept, to tell which runner checked. */
  function capturingLogger(): { logger: pino.Logger; messages: string[] } {
    const messages: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        messages.push((JSON.parse(chunk.toString()) as { msg: string }).msg);
        done();
      },
    });
    return { logger: pino({ level: 'info' }, stream), messages };
  }

  it('runs in one process at a time: of two runners started together, one checks and the other skips', async () => {
    const { logger: captured, messages } = capturingLogger();
    const reservationId = await reserve(`ord-${uuidv7()}`, 1);
    await t.db.pool.query(`update reservations set expires_at = now() - interval '1 hour' where id = $1`, [reservationId]);
    // the findings table held, so whichever runner takes the check's lock first waits inside its check holding it
    const blocker = await t.db.pool.connect();
    await blocker.query('begin');
    await blocker.query('lock table consistency_findings in access exclusive mode');
    const config = { ...t.config, CONSISTENCY_CHECK_INTERVAL_MS: 3_600_000 };
    const runners = [
      startConsistencyMonitor({ config, pool: t.db.pool, logger: captured }),
      startConsistencyMonitor({ config, pool: t.db.pool, logger: captured }),
    ];
    try {
      await eventually(() => messages.some((message) => message.includes('skipped')), 10_000, 'one runner to skip');
      await blocker.query('commit');
      await eventually(() => messages.some((message) => message.startsWith('consistency check found')), 10_000, 'the other runner to finish its check');
    } finally {
      blocker.release();
      for (const runner of runners) await runner.stop();
    }
    expect(messages.filter((message) => message.includes('skipped'))).toHaveLength(1);
    expect(messages.filter((message) => message.startsWith('consistency check found'))).toEqual(['consistency check found inconsistencies']);
    expect(await openFindingOf('overdue_hold', reservationId)).toBeDefined();
    expect(await runConsistencyCheckIfFree(t.db.pool, t.config)).toMatchObject({ seenAgain: 1, appeared: 0 });
    await adminCall('DELETE', '/admin/reservations/expired');
    await check();
  });
});
