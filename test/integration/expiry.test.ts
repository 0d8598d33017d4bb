import pino from 'pino';
import { loadConfig } from '../../src/config';
import { createPool, withTransaction } from '../../src/db/client';
import { serveAndCommit } from '../helpers/engine';
import { expireReservations } from '../../src/inventory/reservations/expire';
import { startExpirySweeper } from '../../src/runners/expiry-sweeper';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { ledgerDifferences, receiveLots, reservationBookDifferences, seedCatalogue, totalsOf } from '../helpers/stock';

let db: TestDatabase;
const config = { RESERVATION_TIMEOUT_MINUTES: 30, RESERVATION_MAX_MINUTES: 120 };
const minute = 60_000;

beforeAll(async () => {
  db = await createTestDatabase('expiry');
  await seedCatalogue(db.pool, { warehouses: [{ id: 'wh-a' }, { id: 'wh-b' }] });
});
afterAll(async () => db.drop());

afterEach(async () => {
  expect(await ledgerDifferences(db.pool)).toEqual([]);
  expect(await reservationBookDifferences(db.pool)).toEqual([]);
});

let counter = 0;
async function product(quantity: number): Promise<string> {
  counter += 1;
  const id = `ep-${counter}`;
  await seedCatalogue(db.pool, { products: [id] });
  await receiveLots(db.pool, [
    { productId: id, warehouseId: 'wh-a', quantity },
    { productId: id, warehouseId: 'wh-b', quantity },
  ]);
  return id;
}

/** Reserves `count` holds of `each` units made at `createdAt`, each held for `minutes`; returns their ids. */
async function holds(productId: string, count: number, each: number, createdAt: Date, minutes: number): Promise<string[]> {
  const outcomes = await serveAndCommit(
    db.pool,
    Array.from({ length: count }, (_, index) => ({
      key: `${productId}-${index}`,
      mode: 'reserve' as const,
      lines: [{ productId, quantity: each }],
      strategy: 'fifo' as const,
      priority: 'medium' as const,
      allowPartial: false,
      allowBackorder: false,
      orderId: `${productId}-order-${index}`,
      referenceType: 'order',
      owner: 'expiry-test',
      reservationMinutes: minutes,
      actor: 'test',
    })),
    { now: createdAt, config },
  );
  return outcomes.map((outcome) => outcome.reservation!.reservationId);
}

async function statuses(ids: readonly string[]): Promise<string[]> {
  const { rows } = await db.pool.query(`select status from reservations where id = any($1::uuid[]) order by id`, [ids]);
  return rows.map((row) => row.status);
}

describe('expiring reservations', () => {
  it('gives back the stock of holds that ended by now and leaves the others alone', async () => {
    const productId = await product(10);
    const start = new Date();
    const [short] = await holds(productId, 1, 4, start, 5);
    const [long] = await holds(productId, 1, 3, start, 60);
    expect(await expireReservations(db.pool, { now: new Date(start.getTime() + 5 * minute), batchSize: 10 })).toBe(1);
    expect(await statuses([short!])).toEqual(['EXPIRED']);
    expect(await statuses([long!])).toEqual(['RESERVED']);
    expect(await totalsOf(db.pool, productId)).toEqual({ quantity: 20, reserved: 3, allocated: 0 });
    const { rows: movements } = await db.pool.query(
      `select type, reserved_delta as delta, actor from inventory_transactions where reference_id = $1 order by id`,
      [short],
    );
    expect(movements).toEqual([
      { type: 'RESERVE', delta: 4, actor: 'test' },
      { type: 'EXPIRE', delta: -4, actor: 'expiry-sweeper' },
    ]);
    const { rows: history } = await db.pool.query(
      `select from_status, to_status, actor from reservation_status_history where reservation_id = $1 order by id`,
      [short],
    );
    expect(history).toEqual([
      { from_status: null, to_status: 'RESERVED', actor: 'test' },
      { from_status: 'RESERVED', to_status: 'EXPIRED', actor: 'expiry-sweeper' },
    ]);
  });

  it('works through more expired holds than one batch', async () => {
    const productId = await product(50);
    const start = new Date(Date.now() - 60 * minute);
    const ids = await holds(productId, 10, 2, start, 1);
    expect(await expireReservations(db.pool, { now: new Date(), batchSize: 3 })).toBe(10);
    expect(new Set(await statuses(ids))).toEqual(new Set(['EXPIRED']));
    expect(await totalsOf(db.pool, productId)).toMatchObject({ reserved: 0 });
  });

  it('expires each reservation exactly once when two sweepers run at the same time', async () => {
    const productId = await product(500);
    const start = new Date(Date.now() - 60 * minute);
    const ids = await holds(productId, 120, 3, start, 1);
    const pools = [createPool(db.url, 2), createPool(db.url, 2)];
    try {
      const counts = await Promise.all(pools.map((pool) => expireReservations(pool, { now: new Date(), batchSize: 7 })));
      expect(counts[0]! + counts[1]!).toBe(120);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
    const { rows } = await db.pool.query(
      `select r.id,
              (select count(*)::int from reservation_status_history h where h.reservation_id = r.id and h.to_status = 'EXPIRED') as expiries,
              (select count(*)::int from inventory_transactions m where m.reference_id = r.id::text and m.type = 'EXPIRE') as movements
         from reservations r where r.id = any($1::uuid[])`,
      [ids],
    );
    expect(rows).toHaveLength(120);
    for (const row of rows) expect(row).toMatchObject({ expiries: 1, movements: 1 });
    expect(await totalsOf(db.pool, productId)).toMatchObject({ reserved: 0 });
  });
});

/** One request for `quantity` of the product, served now (a job, a reserve call: the engine is the same). */
function request(productId: string, quantity: number, key: string, extra: Record<string, unknown> = {}) {
  return {
    key,
    mode: 'allocate' as const,
    lines: [{ productId, quantity }],
    strategy: 'fifo' as const,
    priority: 'medium' as const,
    allowPartial: false,
    allowBackorder: false,
    orderId: key,
    referenceType: 'order',
    owner: 'expiry-test',
    actor: 'test',
    ...extra,
  };
}

describe('expiry in line (no sweeper)', () => {
  it('serves a request from the stock of holds whose time ran out, expiring them as the sweeper would', async () => {
    const productId = await product(5);
    const lapsed = await holds(productId, 2, 5, new Date(Date.now() - 10 * minute), 1);
    expect(await totalsOf(db.pool, productId)).toEqual({ quantity: 10, reserved: 10, allocated: 0 });

    const [served] = await serveAndCommit(db.pool, [request(productId, 8, `${productId}-late`)], { now: new Date(), config });
    expect(served!.outcome).toBe('complete');
    expect(await statuses(lapsed)).toEqual(['EXPIRED', 'EXPIRED']);
    expect(await totalsOf(db.pool, productId)).toEqual({ quantity: 10, reserved: 0, allocated: 8 });
    const { rows: history } = await db.pool.query(
      `select to_status, actor from reservation_status_history where reservation_id = any($1::uuid[]) and to_status = 'EXPIRED'`,
      [lapsed],
    );
    expect(history).toEqual([
      { to_status: 'EXPIRED', actor: 'expiry-in-line' },
      { to_status: 'EXPIRED', actor: 'expiry-in-line' },
    ]);
    const { rows: events } = await db.pool.query(
      `select count(*)::int as n from outbox_events where event_type = 'ReservationExpired' and payload->>'reservationId' = any($1::text[])`,
      [lapsed],
    );
    expect(events[0].n).toBe(2);
    // the sweeper finds nothing left to do
    expect(await expireReservations(db.pool, { now: new Date(), batchSize: 10 })).toBe(0);
  });

  it('leaves holds that have not ended, and a lapsed hold also holding another product’s lots, to their owners', async () => {
    const productId = await product(5);
    const other = await product(5);
    const [running] = await holds(productId, 1, 3, new Date(), 30);
    const [spanning] = await serveAndCommit(
      db.pool,
      [
        {
          ...request(productId, 4, `${productId}-span`),
          mode: 'reserve' as const,
          lines: [
            { productId, quantity: 4 },
            { productId: other, quantity: 1 },
          ],
          reservationMinutes: 1,
        },
      ],
      { now: new Date(Date.now() - 10 * minute), config },
    );
    const [served] = await serveAndCommit(db.pool, [request(productId, 5, `${productId}-short`)], { now: new Date(), config });
    expect(served!.outcome).toBe('none');
    expect(served!.failedLines[0]).toMatchObject({ availableQuantity: 3 });
    expect(await statuses([running!, spanning!.reservation!.reservationId])).toEqual(['RESERVED', 'RESERVED']);
    expect(await expireReservations(db.pool, { now: new Date(), batchSize: 10 })).toBe(1);
  });

  it('skips a lapsed hold another transaction is changing, without waiting for it', async () => {
    const productId = await product(5);
    const [lapsed] = await holds(productId, 1, 5, new Date(Date.now() - 10 * minute), 1);
    let release!: () => void;
    const releasing = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = withTransaction(db.pool, async (tx) => {
      await tx.query(`select id from reservations where id = $1 for update`, [lapsed]);
      locked();
      await releasing;
    });
    await isLocked;
    const [served] = await serveAndCommit(db.pool, [request(productId, 6, `${productId}-busy`)], { now: new Date(), config });
    release();
    await holder;
    expect(served!.failedLines[0]).toMatchObject({ availableQuantity: 5 });
    expect(await statuses([lapsed!])).toEqual(['RESERVED']);
  });

  it('fills waiting backorders of the product from the expired stock first, as the sweeper does', async () => {
    const productId = await product(2);
    const [lapsed] = await holds(productId, 1, 4, new Date(Date.now() - 10 * minute), 5);
    const [waiting] = await serveAndCommit(db.pool, [request(productId, 3, `${productId}-backorder`, { allowPartial: true, allowBackorder: true })], {
      now: new Date(Date.now() - 8 * minute),
      config,
    });
    expect(waiting!.backorders).toEqual([expect.objectContaining({ quantity: 3 })]);
    const [served] = await serveAndCommit(db.pool, [request(productId, 4, `${productId}-after`, { allowPartial: true })], { now: new Date(), config });
    expect(await statuses([lapsed!])).toEqual(['EXPIRED']);
    const { rows } = await db.pool.query(`select status, fulfilled_quantity as "fulfilled" from backorder_items where id = $1`, [waiting!.backorders[0]!.id]);
    expect(rows).toEqual([{ status: 'FULFILLED', fulfilled: 3 }]);
    expect(served!.takes.reduce((sum, take) => sum + take.quantity, 0)).toBe(1);
  });
});

describe('the expiry sweeper runner', () => {
  it('sweeps on its interval and stops cleanly', async () => {
    const productId = await product(5);
    const [id] = await holds(productId, 1, 2, new Date(Date.now() - 10 * minute), 1);
    const runnerConfig = loadConfig({ DATABASE_URL: db.url, EXPIRY_SWEEP_INTERVAL_MS: '50', EXPIRY_SWEEP_BATCH_SIZE: '10' });
    const runner = startExpirySweeper({ config: runnerConfig, pool: db.pool, logger: pino({ level: 'silent' }) });
    try {
      const deadline = Date.now() + 10_000;
      while ((await statuses([id!]))[0] !== 'EXPIRED' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
      expect(await statuses([id!])).toEqual(['EXPIRED']);
      // a hold that ends later is swept by a later round
      const [later] = await holds(productId, 1, 1, new Date(Date.now() - 10 * minute), 1);
      while ((await statuses([later!]))[0] !== 'EXPIRED' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
      expect(await statuses([later!])).toEqual(['EXPIRED']);
    } finally {
      await runner.stop();
    }
    expect(runner.name).toBe('expiry-sweeper');
    expect(await totalsOf(db.pool, productId)).toMatchObject({ reserved: 0 });
  });
});
