import type { Pool } from 'pg';
import { queryRows, withTransaction, type Queryable } from '../../src/db/client';
import { findLedgerDifferences, insertEmptyLots } from '../../src/db/lot-store';
import { commitWrites } from '../../src/db/writes';

export type WarehouseSeed = { id: string; latitude?: number; longitude?: number; premium?: boolean; priority?: number; active?: boolean };

/** Inserts warehouses and products straight into the catalogue tables. */
export async function seedCatalogue(pool: Pool, seed: { warehouses?: WarehouseSeed[]; products?: string[] }): Promise<void> {
  for (const w of seed.warehouses ?? []) {
    await pool.query(`insert into warehouses (id, code, name, latitude, longitude, premium, priority, active) values ($1, $1, $1, $2, $3, $4, $5, $6)`, [
      w.id,
      w.latitude ?? null,
      w.longitude ?? null,
      w.premium ?? false,
      w.priority ?? 0,
      w.active ?? true,
    ]);
  }
  for (const id of seed.products ?? []) await pool.query(`insert into products (id, sku, name) values ($1, $1, $1)`, [id]);
}

export type LotSeed = {
  productId: string;
  warehouseId: string;
  quantity: number;
  receivedAt?: Date;
  expiresAt?: Date | null;
  unitCost?: number | null;
  lotNumber?: string;
};

/** Receives lots the way the service does (an empty lot filled by a RECEIPT movement); returns their ids in order. */
export async function receiveLots(pool: Pool, lots: readonly LotSeed[]): Promise<string[]> {
  return withTransaction(pool, async (tx) => {
    const ids = await insertEmptyLots(
      tx,
      lots.map((lot) => ({
        productId: lot.productId,
        warehouseId: lot.warehouseId,
        receivedAt: lot.receivedAt ?? new Date(),
        expiresAt: lot.expiresAt ?? null,
        unitCost: lot.unitCost ?? null,
        lotNumber: lot.lotNumber ?? null,
      })),
    );
    await commitWrites(tx, {
      movements: ids.map((lotId, index) => ({ lotId, type: 'RECEIPT' as const, quantityDelta: lots[index]!.quantity, actor: 'test' })),
    });
    return ids;
  });
}

export type LotState = { id: string; quantity: number; reserved: number; allocated: number };

/** The lots of a product, oldest id first. */
export async function lotsOf(db: Queryable, productId: string): Promise<LotState[]> {
  return queryRows<LotState>(
    db,
    `select id, quantity, reserved_quantity as reserved, allocated_quantity as allocated
       from inventory_items where product_id = $1 order by id`,
    [productId],
  );
}

/** Totals of a product over all its lots. */
export async function totalsOf(db: Queryable, productId: string): Promise<{ quantity: number; reserved: number; allocated: number }> {
  const lots = await lotsOf(db, productId);
  return lots.reduce(
    (sum, lot) => ({ quantity: sum.quantity + lot.quantity, reserved: sum.reserved + lot.reserved, allocated: sum.allocated + lot.allocated }),
    {
      quantity: 0,
      reserved: 0,
      allocated: 0,
    },
  );
}

/**
 * Expects the books to balance: the ledger explains every lot, reservations hold exactly the
 * reserved and allocated stock, and no lot is below zero or holds more than it has.
 */
export async function expectBooksBalanced(db: Queryable): Promise<void> {
  expect(await ledgerDifferences(db)).toEqual([]);
  expect(await reservationBookDifferences(db)).toEqual([]);
  const [impossible] = await queryRows<{ n: number }>(
    db,
    `select count(*)::int as n from inventory_items
      where quantity < 0 or reserved_quantity < 0 or allocated_quantity < 0 or reserved_quantity + allocated_quantity > quantity`,
  );
  expect(impossible!.n).toBe(0);
}

/** The ledger differences reconcile would report (none when the ledger explains every lot). */
export async function ledgerDifferences(db: Queryable): Promise<unknown[]> {
  return (await findLedgerDifferences(db)).differences;
}

/**
 * Checks the books across lots and reservations: reserved stock equals what RESERVED reservations
 * still hold, allocated stock equals what was allocated and not shipped. Returns what disagrees.
 */
export async function reservationBookDifferences(db: Queryable): Promise<unknown[]> {
  return queryRows(
    db,
    `with lots as (select id, reserved_quantity as reserved, allocated_quantity as allocated from inventory_items),
          held as (select l.lot_id,
                          sum(case when r.status = 'RESERVED' then l.quantity - l.allocated_quantity - l.released_quantity - l.moved_quantity else 0 end)::int as reserved,
                          sum(l.allocated_quantity - l.shipped_quantity)::int as allocated,
                          sum(case when r.status <> 'RESERVED' then l.quantity - l.allocated_quantity - l.released_quantity - l.moved_quantity else 0 end)::int as stray
                     from reservation_lines l join reservations r on r.id = l.reservation_id group by l.lot_id)
     select lots.id, lots.reserved, lots.allocated, coalesce(held.reserved, 0) as "heldReserved",
            coalesce(held.allocated, 0) as "heldAllocated", coalesce(held.stray, 0) as stray
       from lots left join held on held.lot_id = lots.id
      where lots.reserved <> coalesce(held.reserved, 0) or lots.allocated <> coalesce(held.allocated, 0) or coalesce(held.stray, 0) <> 0`,
  );
}
