import { withTransaction, type Transaction } from '../../src/db/client';
import { insertEmptyLots, type LotRow } from '../../src/db/lot-store';
import { lockFor, peekLots, type LotSelection } from '../../src/db/locks';
import { commitWrites } from '../../src/db/writes';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('lot_locks');
  await db.pool.query(`insert into warehouses (id, code, name) values ('wh-1', 'W1', 'One'), ('wh-2', 'W2', 'Two')`);
  await db.pool.query(`insert into products (id, sku, name) values ('p-same', 'P1', 'Same'), ('p-moved', 'P2', 'Moved'),
                                                                   ('p-added', 'P3', 'Added'), ('p-tracked', 'P4', 'Tracked'),
                                                                   ('p-many', 'P5', 'Many')`);
});
afterAll(async () => db.drop());

async function receive(productId: string, warehouseId: string, quantity: number): Promise<string> {
  return withTransaction(db.pool, async (tx) => {
    const [lotId] = await insertEmptyLots(tx, [{ productId, warehouseId, receivedAt: new Date() }]);
    await commitWrites(tx, { movements: [{ lotId: lotId!, type: 'RECEIPT', quantityDelta: quantity, actor: 'test' }] });
    return lotId!;
  });
}

/** Peeks at the selection, lets `between` run in another transaction, then locks with what was peeked; returns both reads and the locked lots read afresh. */
async function peekThenLock(selection: LotSelection, between: () => Promise<void>): Promise<{ peeked: LotRow[]; locked: LotRow[]; fresh: LotRow[] }> {
  return withTransaction(db.pool, async (tx: Transaction) => {
    const peeked = await peekLots(tx, selection);
    await between();
    const { lots: locked } = await lockFor(tx, selection, peeked);
    const fresh = await peekLots(tx, selection);
    return { peeked, locked, fresh };
  });
}

/** Whether another session can lock the lot now (false while a transaction holds it). */
async function lockableElsewhere(lotId: string): Promise<boolean> {
  const { rows } = await db.pool.query(`select id from inventory_items where id = $1 for update skip locked`, [lotId]);
  return rows.length === 1;
}

describe('locking the lots a transaction peeked at', () => {
  it('keeps the rows it read when no lot changed, and holds their locks', async () => {
    const lotIds = [await receive('p-same', 'wh-1', 5), await receive('p-same', 'wh-2', 7)];
    await withTransaction(db.pool, async (tx) => {
      const peeked = await peekLots(tx, { reservingProducts: ['p-same'] });
      const { lots } = await lockFor(tx, { reservingProducts: ['p-same'] }, peeked);
      expect(lots).toHaveLength(2);
      lots.forEach((lot, index) => expect(lot).toBe(peeked[index]));
      for (const lotId of lotIds) expect(await lockableElsewhere(lotId)).toBe(false);
    });
    for (const lotId of lotIds) expect(await lockableElsewhere(lotId)).toBe(true);
  });

  it('reads a lot again when its stock moved in between', async () => {
    const lotId = await receive('p-moved', 'wh-1', 10);
    const { peeked, locked, fresh } = await peekThenLock({ reservingProducts: ['p-moved'] }, async () => {
      await withTransaction(db.pool, (other) => commitWrites(other, { movements: [{ lotId, type: 'RESERVE', reservedDelta: 4, actor: 'test' }] }));
    });
    expect(peeked[0]).toMatchObject({ reservedQuantity: 0 });
    expect(locked).toEqual(fresh);
    expect(locked[0]).toMatchObject({ id: lotId, quantity: 10, reservedQuantity: 4 });
  });

  it('takes a lot received in between, locked', async () => {
    await receive('p-added', 'wh-1', 3);
    let added = '';
    const { peeked, locked, fresh } = await peekThenLock({ reservingProducts: ['p-added'] }, async () => {
      added = await receive('p-added', 'wh-2', 8);
    });
    expect(peeked).toHaveLength(1);
    expect(locked).toEqual(fresh);
    expect(locked.map((lot) => lot.id)).toContain(added);
  });

  it("reads the lots again when their product's tracking changed in between (the change moves their version)", async () => {
    const lotId = await receive('p-tracked', 'wh-1', 0);
    const { peeked, locked } = await peekThenLock({ reservingProducts: ['p-tracked'] }, async () => {
      await db.pool.query(`update products set tracking = 'serial' where id = 'p-tracked'`);
    });
    expect(peeked[0]).toMatchObject({ id: lotId, tracking: 'lot' });
    expect(locked[0]).toMatchObject({ id: lotId, tracking: 'serial' });
    expect(locked[0]!.version).toBe(peeked[0]!.version + 1);
  });
});

describe('lot updates', () => {
  it('stay on their page (HOT): no new index entries for the movements of a batch', async () => {
    // lots as created, each page filled as far as the table's fillfactor lets an insert fill it
    const lotIds = await withTransaction(db.pool, (tx) =>
      insertEmptyLots(
        tx,
        Array.from({ length: 200 }, () => ({ productId: 'p-many', warehouseId: 'wh-1', receivedAt: new Date() })),
      ),
    );
    // the session's count of HOT updates not yet reported, before and after the batch's write
    const hotCount = async (tx: Transaction) =>
      Number((await tx.query<{ hot: string }>(`select pg_stat_get_xact_tuples_hot_updated('inventory_items'::regclass) as hot`)).rows[0]!.hot);
    const hotUpdates = await withTransaction(db.pool, async (tx) => {
      await lockFor(tx, { lotIds });
      const before = await hotCount(tx);
      await commitWrites(tx, { movements: lotIds.map((lotId) => ({ lotId, type: 'RECEIPT' as const, quantityDelta: 10, actor: 'test' })) });
      return (await hotCount(tx)) - before;
    });
    // pages half filled (migration 0023) hold each lot's next version beside it; full pages (without
    // it) about one in fifteen. Later updates stay HOT as long as pruning can clear the old versions,
    // which a long transaction elsewhere can delay, so this looks at the first.
    expect(hotUpdates).toBe(lotIds.length);
  });
});
