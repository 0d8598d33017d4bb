import pino from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { connectAmqp, type AmqpClient } from '../../src/amqp/connection';
import { findUnitDifferences } from '../../src/db/unit-store';
import { startAllocationWorker } from '../../src/runners/allocation-worker';
import type { Runner } from '../../src/runners/runner';
import { enqueue, waitForJob } from '../helpers/allocations';
import { startTestApp, type TestApp } from '../helpers/app';
import { seedCatalogue, stockSnapshot } from '../helpers/inventory';
import { inventoryApi } from '../helpers/inventory-api';
import { expectBooksBalanced } from '../helpers/stock';
import { receiveUnits, unitsOf } from '../helpers/units';

let t: TestApp;
let api: ReturnType<typeof inventoryApi>;
let amqp: AmqpClient;
let worker: Runner;

beforeAll(async () => {
  t = await startTestApp('unit-reservations', { broker: true, env: { WORKER_BATCH_WAIT_MS: '5' } });
  api = inventoryApi(t.app);
  await seedCatalogue(t, { warehouses: ['wh-a', 'wh-b'], serialProducts: ['named-1', 'race-1', 'job-1', 'job-2'] });
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  amqp = await connectAmqp(t.vhost!.url, logger, { connectionName: 'unit-reservations-worker', maxDelayMs: 500 });
  await amqp.waitForConnect();
  worker = await startAllocationWorker({ config: t.config, pool: t.db.pool, logger, amqp });
});
afterAll(async () => {
  await worker.stop();
  await amqp.close();
  await t.close();
});
afterEach(async () => {
  await expectBooksBalanced(t.db.pool);
  expect((await findUnitDifferences(t.db.pool)).differences).toEqual([]);
});

describe('reserving units by serial number', () => {
  it('takes exactly the units named, across lots and against the strategy, and refuses the whole call listing those it cannot have', async () => {
    await receiveUnits(t, 'named-1', 'wh-a', ['N-1', 'N-2'], { receivedAt: '2026-01-01T00:00:00Z' });
    await receiveUnits(t, 'named-1', 'wh-b', ['N-3', 'N-4'], { receivedAt: '2026-02-01T00:00:00Z' });
    const response = await api.reserve({ orderId: 'o-named', items: [{ productId: 'named-1', quantity: 2, serialNumbers: ['N-4', 'N-2'] }] });
    expect(response.statusCode).toBe(201);
    const reservationId = response.json().reservationId;
    expect(await unitsOf(t, 'named-1')).toEqual({
      'N-1': ['AVAILABLE', null],
      'N-2': ['RESERVED', reservationId],
      'N-3': ['AVAILABLE', null],
      'N-4': ['RESERVED', reservationId],
    });

    const before = await stockSnapshot(t.db.pool);
    const refused = await api.reserve({
      orderId: 'o-named-2',
      items: [
        { productId: 'named-1', quantity: 3, serialNumbers: ['N-1', 'N-2', 'N-9'] },
        { productId: 'named-1', quantity: 1, serialNumbers: ['N-3'], warehouseId: 'wh-a' },
      ],
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({
      code: 'INSUFFICIENT_STOCK',
      details: {
        unavailableSerials: [
          { productId: 'named-1', serialNumber: 'N-2', status: 'RESERVED' },
          { productId: 'named-1', serialNumber: 'N-9', status: 'UNKNOWN' },
          { productId: 'named-1', serialNumber: 'N-3', status: 'ELSEWHERE' },
        ],
      },
    });
    expect(refused.json().error.details.shortfall[0]).toMatchObject({ reason: 'serials_unavailable', availableQuantity: 0 });
    expect(await stockSnapshot(t.db.pool)).toEqual(before);

    const miscounted = await api.reserve({ orderId: 'o-bad', items: [{ productId: 'named-1', quantity: 2, serialNumbers: ['N-1'] }] });
    expect(miscounted.statusCode).toBe(400);
    const twice = await api.reserve({ orderId: 'o-bad', items: [{ productId: 'named-1', quantity: 2, serialNumbers: ['N-1', 'N-1'] }] });
    expect(twice.statusCode).toBe(400);
  });

  it('of concurrent reservations of the same units, exactly one wins', async () => {
    await receiveUnits(t, 'race-1', 'wh-a', ['R-1', 'R-2', 'R-3']);
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        api.reserve({ orderId: `o-race-${index}`, items: [{ productId: 'race-1', quantity: 2, serialNumbers: ['R-2', 'R-3'] }] }),
      ),
    );
    const statuses = answers.map((answer) => answer.statusCode).sort();
    expect(statuses).toEqual([201, ...Array<number>(9).fill(409)]);
    const winner = answers.find((answer) => answer.statusCode === 201)!.json().reservationId;
    expect(await unitsOf(t, 'race-1')).toEqual({ 'R-1': ['AVAILABLE', null], 'R-2': ['RESERVED', winner], 'R-3': ['RESERVED', winner] });
    for (const loser of answers.filter((answer) => answer.statusCode === 409)) {
      expect(loser.json().error.details.unavailableSerials.map((unit: { status: string }) => unit.status)).toEqual(['RESERVED', 'RESERVED']);
    }
  });
});

describe('allocation jobs of serial-tracked products, through the worker', () => {
  it('reserve units by the strategy, allocate the units named, and fail a line whose units are taken', async () => {
    await receiveUnits(t, 'job-1', 'wh-a', ['J-1', 'J-2'], { receivedAt: '2026-01-01T00:00:00Z' });
    await receiveUnits(t, 'job-1', 'wh-b', ['J-3', 'J-4'], { receivedAt: '2026-02-01T00:00:00Z' });

    const byStrategy = await enqueue(t.app, {
      items: [{ productId: 'job-1', quantity: 1 }],
      strategy: 'lifo',
      referenceId: `o-${uuidv7()}`,
      referenceType: 'order',
    });
    expect(byStrategy.statusCode).toBe(202);
    const reserved = await waitForJob(t.app, byStrategy.json().allocationId);
    expect(reserved.status).toBe('succeeded');
    expect((await unitsOf(t, 'job-1'))['J-3']).toEqual(['RESERVED', reserved.result.reservationId]);

    const named = await enqueue(t.app, {
      items: [{ productId: 'job-1', quantity: 2, serialNumbers: ['J-1', 'J-4'] }],
      mode: 'allocate',
      referenceId: `o-${uuidv7()}`,
      referenceType: 'order',
    });
    const sold = await waitForJob(t.app, named.json().allocationId);
    expect(sold.status).toBe('succeeded');
    expect(await unitsOf(t, 'job-1')).toMatchObject({ 'J-1': ['SOLD', sold.result.reservationId], 'J-4': ['SOLD', sold.result.reservationId] });

    const taken = await enqueue(t.app, {
      items: [{ productId: 'job-1', quantity: 1, serialNumbers: ['J-3'] }],
      referenceId: `o-${uuidv7()}`,
      referenceType: 'order',
    });
    const failed = await waitForJob(t.app, taken.json().allocationId);
    expect(failed.status).toBe('failed');
    expect(failed.result.failedItems).toEqual([
      expect.objectContaining({ productId: 'job-1', reason: 'serials_unavailable', unavailableSerials: [{ serialNumber: 'J-3', status: 'RESERVED' }] }),
    ]);
  });

  it('a named line is never backordered; another line of the job is', async () => {
    await receiveUnits(t, 'job-2', 'wh-a', ['K-1']);
    const job = await enqueue(t.app, {
      items: [
        { productId: 'job-2', quantity: 1, serialNumbers: ['K-9'] },
        { productId: 'job-2', quantity: 3 },
      ],
      allowPartial: true,
      allowBackorder: true,
      referenceId: `o-${uuidv7()}`,
      referenceType: 'order',
    });
    const view = await waitForJob(t.app, job.json().allocationId);
    expect(view.status).toBe('partial');
    expect(view.result.backorderIds).toHaveLength(1);
    const { rows } = await t.db.pool.query(`select quantity from backorder_items where product_id = 'job-2'`);
    expect(rows).toEqual([{ quantity: 2 }]);
  });
});
