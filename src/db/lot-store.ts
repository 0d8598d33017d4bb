import { newId } from '../ids';
import type { LotMovement, MovementType } from '../domain/movement';
import type { Tracking } from '../domain/units';
import { queryRows, type Queryable, type Transaction } from './client';
import { sql, type Sql } from './sql';

/** A lot as stored, with the facts of its warehouse that strategies need. */
export type LotRow = {
  id: string;
  productId: string;
  warehouseId: string;
  binLocation: string | null;
  lotNumber: string | null;
  quantity: number;
  reservedQuantity: number;
  allocatedQuantity: number;
  receivedAt: Date;
  expiresAt: Date | null;
  unitCost: number | null;
  version: number;
  /** how its product is counted: a serial-tracked lot's quantities are the counts of its units */
  tracking: Tracking;
  warehouse: { latitude: number | null; longitude: number | null; premium: boolean; priority: number; active: boolean };
};

/** A ledger row as written, with the lot's quantities after the movement. */
export type MovementRow = {
  id: number;
  lotId: string;
  productId: string;
  warehouseId: string;
  type: MovementType;
  quantityDelta: number;
  reservedDelta: number;
  allocatedDelta: number;
  quantityAfter: number;
  reservedAfter: number;
  allocatedAfter: number;
  reason: string | null;
  referenceType: string | null;
  referenceId: string | null;
  actor: string;
  createdAt: Date;
};

/**
 * The columns of a lot as a LotRow, over `inventory_items i join warehouses w`. The tracking is the
 * lot's own copy of its product's (serial_tracked, kept so by the triggers of migration 0020), not a
 * look-up of the product per lot: that subquery, priced for every lot the planner expects, put the
 * lock of a spread batch's lots over jit_above_cost whenever the statistics were those of an empty table.
 */
export const lotColumns = `
  i.id, i.product_id as "productId", i.warehouse_id as "warehouseId", i.bin_location as "binLocation",
  i.lot_number as "lotNumber", i.quantity, i.reserved_quantity as "reservedQuantity",
  i.allocated_quantity as "allocatedQuantity", i.received_at as "receivedAt", i.expires_at as "expiresAt",
  i.unit_cost::float8 as "unitCost", i.version, case when i.serial_tracked then 'serial' else 'lot' end as tracking,
  json_build_object('latitude', w.latitude, 'longitude', w.longitude, 'premium', w.premium,
                    'priority', w.priority, 'active', w.active) as warehouse`;

/**
 * SQL mirrors of the lot rules of src/domain over a lot aliased `i`; test/integration/rule-mirrors.test.ts
 * holds each to the same answers as its TypeScript.
 */
/** available() of src/domain/quantities.ts: on hand less reserved and allocated. */
export const lotAvailableSql = 'i.quantity - i.reserved_quantity - i.allocated_quantity';

/** warehouseServes() of src/domain/catalogue.ts over a warehouse aliased `w`: only an active warehouse serves new reservations. */
export const warehouseServesSql = 'w.active';

/** isExpired() of src/domain/expiry.ts at `now` (an SQL timestamptz expression): expiry at exactly `now` counts as expired. */
export function lotExpiredSql(now: string): string {
  return `(i.expires_at is not null and i.expires_at <= ${now})`;
}

/** Reads the named lots without locking them, in id order. */
export async function findLotsById(db: Queryable, lotIds: readonly string[]): Promise<LotRow[]> {
  if (lotIds.length === 0) return [];
  return queryRows<LotRow>(
    db,
    `select ${lotColumns} from inventory_items i join warehouses w on w.id = i.warehouse_id where i.id = any($1::uuid[]) order by i.id`,
    [lotIds],
  );
}

/** Reads lots without locking, for availability answers. */
export async function findLotsOfProducts(db: Queryable, productIds: readonly string[], warehouseId?: string): Promise<LotRow[]> {
  return queryRows<LotRow>(
    db,
    `select ${lotColumns}
       from inventory_items i join warehouses w on w.id = i.warehouse_id
      where i.product_id = any($1::text[]) and ($2::text is null or i.warehouse_id = $2)
      order by i.product_id, i.warehouse_id, i.received_at, i.id`,
    [productIds, warehouseId ?? null],
  );
}

export type NewLot = {
  productId: string;
  warehouseId: string;
  lotNumber?: string | null;
  binLocation?: string | null;
  receivedAt: Date;
  expiresAt?: Date | null;
  unitCost?: number | null;
};

/**
 * Creates empty lots (quantity 0) and returns their ids in input order; the caller fills them with a
 * RECEIPT or TRANSFER_IN movement so the ledger alone explains every unit.
 */
export async function insertEmptyLots(tx: Transaction, lots: readonly NewLot[]): Promise<string[]> {
  if (lots.length === 0) return [];
  const ids = lots.map(() => newId());
  await tx.query(
    `insert into inventory_items (id, product_id, warehouse_id, lot_number, bin_location, quantity, received_at, expires_at, unit_cost)
     select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::timestamptz[], $8::timestamptz[], $9::numeric[])`,
    [
      ids,
      lots.map((lot) => lot.productId),
      lots.map((lot) => lot.warehouseId),
      lots.map((lot) => lot.lotNumber ?? null),
      lots.map((lot) => lot.binLocation ?? null),
      lots.map(() => 0),
      lots.map((lot) => lot.receivedAt),
      lots.map((lot) => lot.expiresAt ?? null),
      lots.map((lot) => lot.unitCost ?? null),
    ],
  );
  return ids;
}

/**
 * The common table expressions that apply movements to their lots and append one ledger row each:
 * `movement` (the input, numbered), `moved` (the lots updated) and `ledger` (the rows written, with
 * the columns of a MovementRow). Several movements may touch one lot; each ledger row shows the lot
 * as it was after it (the lot's new state less the movements that follow it). The lots should
 * already be locked by the caller. A movement that would break a CHECK constraint fails the
 * statement; one of a lot that does not exist writes no ledger row (commitWrites refuses that).
 */
export function movementsWrite(movements: readonly LotMovement[]): Sql {
  return sql`movement as (
       select * from unnest(${movements.map((movement) => movement.lotId)}::uuid[], ${movements.map((movement) => movement.type)}::text[],
                            ${movements.map((movement) => movement.quantityDelta ?? 0)}::int[], ${movements.map((movement) => movement.reservedDelta ?? 0)}::int[],
                            ${movements.map((movement) => movement.allocatedDelta ?? 0)}::int[], ${movements.map((movement) => movement.reason ?? null)}::text[],
                            ${movements.map((movement) => movement.referenceType ?? null)}::text[], ${movements.map((movement) => movement.referenceId ?? null)}::text[],
                            ${movements.map((movement) => movement.actor)}::text[])
              with ordinality as m(lot_id, type, quantity_delta, reserved_delta, allocated_delta, reason, reference_type, reference_id, actor, n)
     ),
     moved as (
       update inventory_items i
          set quantity = i.quantity + d.quantity,
              reserved_quantity = i.reserved_quantity + d.reserved,
              allocated_quantity = i.allocated_quantity + d.allocated,
              version = i.version + 1,
              updated_at = now()
         from (select lot_id, sum(quantity_delta) as quantity, sum(reserved_delta) as reserved, sum(allocated_delta) as allocated
                 from movement group by lot_id) as d
        where i.id = d.lot_id
        returning i.id, i.product_id, i.warehouse_id, i.quantity, i.reserved_quantity, i.allocated_quantity
     ),
     ledger as (
       insert into inventory_transactions
         (lot_id, product_id, warehouse_id, type, quantity_delta, reserved_delta, allocated_delta,
          quantity_after, reserved_after, allocated_after, reason, reference_type, reference_id, actor)
       select m.lot_id, u.product_id, u.warehouse_id, m.type, m.quantity_delta, m.reserved_delta, m.allocated_delta,
              u.quantity - coalesce(sum(m.quantity_delta) over later, 0),
              u.reserved_quantity - coalesce(sum(m.reserved_delta) over later, 0),
              u.allocated_quantity - coalesce(sum(m.allocated_delta) over later, 0),
              m.reason, m.reference_type, m.reference_id, m.actor
         from movement m join moved u on u.id = m.lot_id
       window later as (partition by m.lot_id order by m.n rows between 1 following and unbounded following)
        order by m.n
       returning id, lot_id, product_id, warehouse_id, type, quantity_delta, reserved_delta, allocated_delta,
                 quantity_after, reserved_after, allocated_after, reason, reference_type, reference_id, actor, created_at
     )`;
}

/**
 * Reads the `ledger` rows of movementsWrite as MovementRows, in the order the movements were given (ids
 * ascend in insertion order). pg returns bigint as a string; a ledger id is exact as float8 (up to
 * 2^53), so it arrives as a number.
 */
export const ledgerRows = sql`select id::float8 as id, lot_id as "lotId", product_id as "productId", warehouse_id as "warehouseId", type,
         quantity_delta as "quantityDelta", reserved_delta as "reservedDelta", allocated_delta as "allocatedDelta",
         quantity_after as "quantityAfter", reserved_after as "reservedAfter", allocated_after as "allocatedAfter",
         reason, reference_type as "referenceType", reference_id as "referenceId", actor, created_at as "createdAt"
    from ledger order by id`;

/** A lot whose stored quantities differ from the sum of its ledger rows. */
export type LedgerDifference = {
  lotId: string;
  productId: string;
  warehouseId: string;
  stored: { quantity: number; reserved: number; allocated: number };
  ledger: { quantity: number; reserved: number; allocated: number };
};

/** Recomputes every lot (or the lots named) from the ledger and returns the lots that disagree (none when all is well). */
export async function findLedgerDifferences(db: Queryable, lotIds?: readonly string[]): Promise<{ lotsChecked: number; differences: LedgerDifference[] }> {
  const rows = await queryRows<LedgerDifference & { differs: boolean }>(
    db,
    `select i.id as "lotId", i.product_id as "productId", i.warehouse_id as "warehouseId",
            json_build_object('quantity', i.quantity, 'reserved', i.reserved_quantity, 'allocated', i.allocated_quantity) as stored,
            json_build_object('quantity', coalesce(l.quantity, 0), 'reserved', coalesce(l.reserved, 0), 'allocated', coalesce(l.allocated, 0)) as ledger,
            (i.quantity, i.reserved_quantity, i.allocated_quantity)
              is distinct from (coalesce(l.quantity, 0), coalesce(l.reserved, 0), coalesce(l.allocated, 0)) as differs
       from inventory_items i
       left join (select lot_id, sum(quantity_delta)::int as quantity, sum(reserved_delta)::int as reserved,
                         sum(allocated_delta)::int as allocated
                    from inventory_transactions ${lotIds === undefined ? '' : 'where lot_id = any($1::uuid[])'} group by lot_id) l on l.lot_id = i.id
       ${lotIds === undefined ? '' : 'where i.id = any($1::uuid[])'}`,
    lotIds === undefined ? [] : [lotIds],
  );
  return {
    lotsChecked: rows.length,
    differences: rows.filter((row) => row.differs).map(({ differs: _differs, ...difference }) => difference),
  };
}
