import { withTransaction } from '../../src/db/client';
import { findLedgerDifferences, insertEmptyLots } from '../../src/db/lot-store';
import { lockFor } from '../../src/db/locks';
import { commitWrites, commitWritesReadingLedger } from '../../src/db/writes';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('ledger');
  await db.pool.query(`insert into warehouses (id, code, name) values ('wh-1', 'W1', 'One')`);
  await db.pool.query(`insert into products (id, sku, name) values ('p-1', 'P1', 'Widget')`);
});
afterAll(async () => db.drop());

async function receive(quantity: number): Promise<string> {
  return withTransaction(db.pool, async (tx) => {
    const [lotId] = await insertEmptyLots(tx, [{ productId: 'p-1', warehouseId: 'wh-1', receivedAt: new Date() }]);
    await commitWrites(tx, { movements: [{ lotId: lotId!, type: 'RECEIPT', quantityDelta: quantity, actor: 'test' }] });
    return lotId!;
  });
}

describe('the movement ledger', () => {
  it('writes one row per movement with the lot as it was after each, and reconciles', async () => {
    const lotId = await receive(100);
    const rows = await withTransaction(db.pool, async (tx) => {
      await lockFor(tx, { servingProducts: ['p-1'] });
      return commitWritesReadingLedger(tx, {
        movements: [
          { lotId, type: 'RESERVE', reservedDelta: 30, actor: 'a', referenceType: 'reservation', referenceId: 'r1' },
          { lotId, type: 'ALLOCATE', reservedDelta: -10, allocatedDelta: 10, actor: 'a' },
          { lotId, type: 'SHIP', quantityDelta: -10, allocatedDelta: -10, actor: 'a' },
        ],
      });
    });
    expect(rows.map((row) => [row.type, row.quantityAfter, row.reservedAfter, row.allocatedAfter])).toEqual([
      ['RESERVE', 100, 30, 0],
      ['ALLOCATE', 100, 20, 10],
      ['SHIP', 90, 20, 0],
    ]);
    expect((await findLedgerDifferences(db.pool)).differences).toEqual([]);
  });

  it('refuses a movement that would leave negative availability and changes nothing', async () => {
    const lotId = await receive(5);
    await expect(
      withTransaction(db.pool, (tx) => commitWrites(tx, { movements: [{ lotId, type: 'RESERVE', reservedDelta: 6, actor: 'a' }] })),
    ).rejects.toMatchObject({
      code: '23514',
    });
    const { rows } = await db.pool.query('select reserved_quantity from inventory_items where id = $1', [lotId]);
    expect(rows[0].reserved_quantity).toBe(0);
  });

  it.each([
    ['reserved above on hand', 'update inventory_items set reserved_quantity = quantity + 1'],
    ['reserved plus allocated above on hand', 'update inventory_items set reserved_quantity = quantity, allocated_quantity = 1'],
    ['negative on hand', 'update inventory_items set quantity = -1'],
    ['negative reserved', 'update inventory_items set reserved_quantity = -1'],
    ['negative allocated', 'update inventory_items set allocated_quantity = -1'],
  ])('CHECK constraints refuse %s even through hand-written SQL', async (_name, statement) => {
    await receive(3);
    await expect(db.pool.query(statement)).rejects.toMatchObject({ code: '23514' });
  });

  it('is append-only: updates and deletes of ledger rows are refused', async () => {
    await receive(1);
    await expect(db.pool.query('update inventory_transactions set quantity_delta = 1000')).rejects.toThrow(/append-only/);
    await expect(db.pool.query('delete from inventory_transactions')).rejects.toThrow(/append-only/);
  });

  it('finds a lot whose quantities were changed without a ledger row', async () => {
    const lotId = await receive(10);
    await db.pool.query('update inventory_items set quantity = 11 where id = $1', [lotId]);
    const { differences } = await findLedgerDifferences(db.pool);
    expect(differences).toEqual([
      expect.objectContaining({ lotId, stored: { quantity: 11, reserved: 0, allocated: 0 }, ledger: { quantity: 10, reserved: 0, allocated: 0 } }),
    ]);
    await db.pool.query('update inventory_items set quantity = 10 where id = $1', [lotId]);
  });
});
