import { v7 as uuidv7 } from 'uuid';
import { createPool, withTransaction, type Transaction } from '../../src/db/client';
import { lockFor } from '../../src/db/locks';
import { commitWrites, commitWritesReadingLedger, mergeWrites, type Writes } from '../../src/db/writes';
import { outboxRows } from '../../src/events/outbox';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { ledgerDifferences, receiveLots, seedCatalogue, totalsOf } from '../helpers/stock';

let db: TestDatabase;
const now = new Date('2030-01-01T00:00:00Z');

beforeAll(async () => {
  db = await createTestDatabase('commit_writes', 2);
  await seedCatalogue(db.pool, { warehouses: [{ id: 'wh-1' }], products: ['p-1', 'p-2'] });
});
afterAll(async () => db.drop());
afterEach(async () => expect(await ledgerDifferences(db.pool)).toEqual([]));

/** Commits the writes in one transaction (after locking the lots of p-1) and counts the statements sent for them. */
async function commitCounting(writes: Writes): Promise<{ statements: number; ledger: Awaited<ReturnType<typeof commitWritesReadingLedger>> }> {
  return withTransaction(db.pool, async (tx: Transaction) => {
    await lockFor(tx, { servingProducts: ['p-1'] });
    const counted = jest.spyOn(tx, 'query');
    try {
      const ledger = await commitWritesReadingLedger(tx, writes);
      return { statements: counted.mock.calls.length, ledger };
    } finally {
      counted.mockRestore();
    }
  });
}

function reservationWithLine(lotId: string, quantity: number): Writes {
  const reservationId = uuidv7();
  return {
    reservationLines: [{ id: uuidv7(), reservationId, lotId, productId: 'p-1', warehouseId: 'wh-1', quantity, allocatedQuantity: 0 }],
    reservations: [
      {
        id: reservationId,
        owner: 'commit-test',
        orderId: `o-${reservationId}`,
        customerId: null,
        status: 'RESERVED',
        priority: 'medium',
        strategy: 'fifo',
        expiresAt: now,
        createdAt: now,
      },
    ],
    statusHistory: [{ reservationId, fromStatus: null, toStatus: 'RESERVED', reason: 'test', reference: null, actor: 'test', at: now }],
    movements: [{ lotId, type: 'RESERVE', reservedDelta: quantity, referenceType: 'reservation', referenceId: reservationId, actor: 'test' }],
  };
}

describe('commitWrites', () => {
  it('writes a reservation, the lines that reference it, its history and its movements in one statement, and returns the ledger rows in order', async () => {
    const [lotId] = await receiveLots(db.pool, [{ productId: 'p-1', warehouseId: 'wh-1', quantity: 10 }]);
    const writes = reservationWithLine(lotId!, 3);
    const { statements, ledger } = await commitCounting({
      ...writes,
      movements: [...writes.movements!, { lotId: lotId!, type: 'ALLOCATE', reservedDelta: -1, allocatedDelta: 1, actor: 'test' }],
    });
    expect(statements).toBe(1);
    expect(ledger.map((row) => [row.type, row.reservedAfter, row.allocatedAfter])).toEqual([
      ['RESERVE', 3, 0],
      ['ALLOCATE', 2, 1],
    ]);
    expect(await totalsOf(db.pool, 'p-1')).toMatchObject({ reserved: 2, allocated: 1 });
    const { rows } = await db.pool.query(
      `select r.status, count(l.*)::int as lines from reservations r join reservation_lines l on l.reservation_id = r.id group by r.id`,
    );
    expect(rows).toEqual([{ status: 'RESERVED', lines: 1 }]);
  });

  it('merges batches kind by kind, in argument order', async () => {
    const events = outboxRows(
      ['first', 'second'].map((orderId) => ({
        type: 'InventoryReleased' as const,
        reservationId: uuidv7(),
        orderId,
        items: [{ productId: 'p-2', warehouseId: 'wh-1', quantity: 1 }],
        reason: null,
        timestamp: now,
      })),
      now,
    );
    const { statements } = await commitCounting({ outbox: [events[0]!] });
    expect(statements).toBe(1);
    await withTransaction(db.pool, (tx) => commitWrites(tx, {}, { outbox: [events[1]!] }));
    const { rows } = await db.pool.query(`select payload->>'orderId' as "orderId" from outbox_events where event_type = 'InventoryReleased' order by id`);
    expect(rows.map((row) => row.orderId)).toEqual(['first', 'second']);
  });

  it('sends nothing when there is nothing to write', async () => {
    expect((await commitCounting({ reservations: [], movements: [] })).statements).toBe(0);
  });

  it('writes nothing of any part when one part fails', async () => {
    const [lotId] = await receiveLots(db.pool, [{ productId: 'p-1', warehouseId: 'wh-1', quantity: 5 }]);
    const before = await db.pool.query('select count(*)::int as n from reservations');
    // a line of 0 units breaks its CHECK; more reserved than on hand breaks the lot's
    await expect(commitCounting(reservationWithLine(lotId!, 0))).rejects.toMatchObject({ code: '23514' });
    await expect(commitCounting(reservationWithLine(lotId!, 50))).rejects.toMatchObject({ code: '23514' });
    expect((await db.pool.query('select count(*)::int as n from reservations')).rows).toEqual(before.rows);
  });

  it('refuses a movement of a lot that does not exist, writing nothing', async () => {
    const ghost = uuidv7();
    await expect(commitCounting({ movements: [{ lotId: ghost, type: 'RECEIPT', quantityDelta: 1, actor: 'test' }] })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      details: { lotIds: [ghost] },
    });
  });

  it('takes the advisory lock of each stock aggregate before writing its events', async () => {
    const alert = outboxRows(
      [{ type: 'LowStockAlert', productId: 'p-1', warehouseId: 'wh-1', currentStock: 1, reorderPoint: 5, severity: 'LOW', timestamp: now }],
      now,
    );
    const { statements } = await commitCounting({ outbox: alert });
    expect(statements).toBe(2);
  });

  it('runs as one prepared statement per shape, on a generic plan however many rows a batch has', async () => {
    const [first, second] = await receiveLots(db.pool, [
      { productId: 'p-1', warehouseId: 'wh-1', quantity: 10 },
      { productId: 'p-1', warehouseId: 'wh-1', quantity: 10 },
    ]);
    const session = createPool(db.url, 1);
    const client = await session.connect();
    try {
      const inTransaction = async (writes: Writes) => {
        await client.query('begin');
        await commitWrites(client as Transaction, writes);
        await client.query('commit');
      };
      await inTransaction(reservationWithLine(first!, 1));
      await inTransaction(mergeWrites(reservationWithLine(first!, 2), reservationWithLine(second!, 3)));
      const { rows } = await client.query<{ generic: number; custom: number }>(
        `select generic_plans::int as generic, custom_plans::int as custom from pg_prepared_statements where statement like '%insert into reservations%'`,
      );
      expect(rows).toEqual([{ generic: 2, custom: 0 }]);
    } finally {
      client.release();
      await session.end();
    }
  });
});
