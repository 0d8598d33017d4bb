import { withTransaction } from '../../src/db/client';
import type { Transaction } from '../../src/db/client';
import { lockFor } from '../../src/db/locks';
import { insertEmptyLots } from '../../src/db/lot-store';
import { commitWrites } from '../../src/db/writes';
import type { LotMovement } from '../../src/domain/movement';
import { inventoryEventSchema } from '../../src/events/schemas';
import { stockChangeWrites } from '../../src/inventory/stock-changes';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

let db: TestDatabase;

/** Locks the moved lots (and so their stock settings), then writes the movements with what the low-stock rule makes of them. */
async function applyStockChanges(tx: Transaction, movements: LotMovement[], options: { now: Date }): Promise<void> {
  const locks = await lockFor(tx, { lotIds: movements.map((movement) => movement.lotId) });
  await commitWrites(tx, await stockChangeWrites(tx, locks, movements, options));
}
let lotId: string;
const now = new Date('2030-01-01T00:00:00Z');

beforeAll(async () => {
  db = await createTestDatabase('low_stock_events');
  await db.pool.query(`insert into warehouses (id, code, name) values ('wh-1', 'W1', 'One'), ('wh-2', 'W2', 'Two')`);
  await db.pool.query(`insert into products (id, sku, name) values ('p-1', 'P1', 'Widget'), ('p-2', 'P2', 'Gadget')`);
  await db.pool.query(`insert into stock_settings (product_id, warehouse_id, reorder_point, min_stock_level) values ('p-1', 'wh-1', 20, 5)`);
  lotId = await withTransaction(db.pool, async (tx) => {
    const [id] = await insertEmptyLots(tx, [{ productId: 'p-1', warehouseId: 'wh-1', receivedAt: now }]);
    await applyStockChanges(tx, [{ lotId: id!, type: 'RECEIPT', quantityDelta: 30, actor: 'test' }], { now });
    return id!;
  });
});
afterAll(async () => db.drop());

async function move(movement: Omit<LotMovement, 'lotId' | 'actor'>, lot = lotId): Promise<void> {
  await withTransaction(db.pool, async (tx) => {
    await applyStockChanges(tx, [{ lotId: lot, actor: 'test', ...movement }], { now });
  });
}

async function alerts() {
  const { rows } = await db.pool.query(
    `select routing_key, aggregate_type, aggregate_id, payload from outbox_events where event_type = 'LowStockAlert' order by id`,
  );
  return rows.map((row) => ({ ...row, event: inventoryEventSchema.parse(row.payload) }));
}

describe('the low-stock crossing rule', () => {
  it('alerts once on the way down, stays quiet while low, re-arms above the reorder point and alerts again', async () => {
    expect(await alerts()).toHaveLength(0);

    await move({ type: 'RESERVE', reservedDelta: 10 }); // 20 available: at the reorder point
    let recorded = await alerts();
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ routing_key: 'inventory.low_stock', aggregate_type: 'stock', aggregate_id: 'p-1@wh-1' });
    expect(recorded[0]!.event).toMatchObject({
      type: 'LowStockAlert',
      productId: 'p-1',
      warehouseId: 'wh-1',
      currentStock: 20,
      reorderPoint: 20,
      severity: 'LOW',
      timestamp: now,
    });

    await move({ type: 'RESERVE', reservedDelta: 15 }); // 5 available: further down
    expect(await alerts()).toHaveLength(1);

    await move({ type: 'RELEASE', reservedDelta: -25 }); // 30 available: recovered
    expect(await alerts()).toHaveLength(1);
    expect((await db.pool.query(`select low_stock_alerted from stock_settings`)).rows[0].low_stock_alerted).toBe(false);

    await move({ type: 'WRITE_OFF', quantityDelta: -26 }); // 4 available: down again, under the minimum level of 5
    recorded = await alerts();
    expect(recorded).toHaveLength(2);
    expect(recorded[1]!.event).toMatchObject({ currentStock: 4, severity: 'CRITICAL' });
  });

  it('ignores pairs without stock settings and movements that leave availability as it was', async () => {
    const before = (await alerts()).length;
    const otherLot = await withTransaction(db.pool, async (tx) => {
      const [id] = await insertEmptyLots(tx, [{ productId: 'p-2', warehouseId: 'wh-2', receivedAt: now }]);
      await applyStockChanges(tx, [{ lotId: id!, type: 'RECEIPT', quantityDelta: 1, actor: 'test' }], { now });
      return id!;
    });
    await move({ type: 'RESERVE', reservedDelta: 1 }, otherLot);
    await move({ type: 'ALLOCATE', reservedDelta: -1, allocatedDelta: 1 }, otherLot);
    expect(await alerts()).toHaveLength(before);
  });

  it('leaves expired lots out of available stock', async () => {
    await db.pool.query(`update stock_settings set reorder_point = 5, low_stock_alerted = false, critical_stock_alerted = false`);
    const before = (await alerts()).length;
    await withTransaction(db.pool, async (tx) => {
      const [id] = await insertEmptyLots(tx, [{ productId: 'p-1', warehouseId: 'wh-1', receivedAt: now, expiresAt: new Date(now.getTime() - 1000) }]);
      await applyStockChanges(tx, [{ lotId: id!, type: 'RECEIPT', quantityDelta: 100, actor: 'test' }], { now });
    });
    // 4 usable units plus 100 expired ones: still low, so the receipt alerts
    const recorded = await alerts();
    expect(recorded).toHaveLength(before + 1);
    expect(recorded.at(-1)!.event).toMatchObject({ currentStock: 4 });
  });

  it('raises one alert when two transactions cross the reorder point at the same time', async () => {
    await db.pool.query(`update stock_settings set reorder_point = 20, low_stock_alerted = false, critical_stock_alerted = false`);
    const lots = await withTransaction(db.pool, async (tx) => {
      const ids = await insertEmptyLots(tx, [
        { productId: 'p-1', warehouseId: 'wh-1', receivedAt: now },
        { productId: 'p-1', warehouseId: 'wh-1', receivedAt: now },
      ]);
      await applyStockChanges(
        tx,
        ids.map((id) => ({ lotId: id, type: 'RECEIPT' as const, quantityDelta: 20, actor: 'test' })),
        { now },
      );
      return ids;
    });
    const before = (await alerts()).length;
    // 44 available; each transaction takes 12 from its own lot: only together do they cross
    await Promise.all(
      lots.map((id) =>
        withTransaction(db.pool, async (tx) => {
          await applyStockChanges(tx, [{ lotId: id, type: 'RESERVE', reservedDelta: 12, actor: 'test' }], { now });
        }),
      ),
    );
    const recorded = await alerts();
    expect(recorded).toHaveLength(before + 1);
    expect(recorded.at(-1)!.event).toMatchObject({ currentStock: 20 });
  });

  it('alerts again, once, when stock falls on from LOW to CRITICAL, and again after it was back at LOW', async () => {
    await db.pool.query(`insert into products (id, sku, name) values ('p-3', 'P3', 'Gizmo')`);
    await db.pool.query(`insert into stock_settings (product_id, warehouse_id, reorder_point, min_stock_level) values ('p-3', 'wh-1', 20, 5)`);
    const lot = await withTransaction(db.pool, async (tx) => {
      const [id] = await insertEmptyLots(tx, [{ productId: 'p-3', warehouseId: 'wh-1', receivedAt: now }]);
      await applyStockChanges(tx, [{ lotId: id!, type: 'RECEIPT', quantityDelta: 34, actor: 'test' }], { now });
      return id!;
    });
    const outstanding = async () =>
      (await db.pool.query(`select low_stock_alerted as low, critical_stock_alerted as critical from stock_settings where product_id = 'p-3'`)).rows[0];
    const before = (await alerts()).length;
    await move({ type: 'RESERVE', reservedDelta: 20 }, lot); // 14: LOW
    await move({ type: 'RESERVE', reservedDelta: 10 }, lot); // 4: under the minimum of 5, CRITICAL
    await move({ type: 'RESERVE', reservedDelta: 2 }, lot); // 2: still CRITICAL
    await move({ type: 'RELEASE', reservedDelta: -5 }, lot); // 7: back at LOW
    await move({ type: 'RESERVE', reservedDelta: 4 }, lot); // 3: CRITICAL again
    const recorded = (await alerts()).slice(before);
    expect(recorded.map((alert) => [alert.event.productId, alert.event.currentStock, alert.event.severity])).toEqual([
      ['p-3', 14, 'LOW'],
      ['p-3', 4, 'CRITICAL'],
      ['p-3', 3, 'CRITICAL'],
    ]);
    expect(await outstanding()).toEqual({ low: true, critical: true });
    await move({ type: 'RELEASE', reservedDelta: -31 }, lot); // 34: recovered, both re-armed
    expect(await outstanding()).toEqual({ low: false, critical: false });
    expect(await alerts()).toHaveLength(before + 3);
  });
});
