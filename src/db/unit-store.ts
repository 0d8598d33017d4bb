/** Serialized units (stock_units) and their status history: the reads a unit move needs, and its parts of commitWrites. */
import type { ReceivedUnit, ReservationUnit, StockUnit, UnitChange, UnitStatus, UnitStep } from '../domain/units';
import { queryRows, type Queryable } from './client';
import { raw, sql, toQuery, whereAll, type Sql } from './sql';

/**
 * isInStock() of src/domain/units.ts over a unit aliased `u`: the units a lot's on-hand quantity
 * counts. With the counts by status it mirrors lotCountsOf; the deferred trigger of
 * drizzle/0015_stock_units.sql (stock_units_check_lot) holds every serial-tracked lot to it at commit.
 */
export const unitInStockSql = "u.status in ('AVAILABLE', 'RESERVED', 'SOLD')";

/**
 * currentLives() of src/domain/units.ts over a unit aliased `u`: the unit is its serial number's
 * latest life (by stock_units_product_serial_life_key), the one every lookup by serial number finds.
 */
export const unitIsCurrentSql = `not exists (select 1 from stock_units later
  where later.product_id = u.product_id and later.serial_number = u.serial_number and later.life > u.life)`;

/** A unit step to record, with its time. */
export type UnitStepRow = UnitStep & { at: Date };

/** The units of these lots that are still in stock (Available, Reserved, Sold), as the picker sees them, in serial number order. */
export async function findStockUnitsOfLots(db: Queryable, lotIds: readonly string[]): Promise<StockUnit[]> {
  if (lotIds.length === 0) return [];
  return queryRows<StockUnit>(
    db,
    `select u.id, u.serial_number as "serialNumber", u.lot_id as "lotId", u.status, u.reservation_id as "reservationId"
       from stock_units u
      where u.lot_id = any($1::uuid[]) and ${unitInStockSql}
      order by u.serial_number, u.id`,
    [lotIds],
  );
}

/** Every unit of these lots, of any status, by lot and serial number. */
export async function findUnitsOfLots(db: Queryable, lotIds: readonly string[]): Promise<(StockUnit & ReservationUnit)[]> {
  if (lotIds.length === 0) return [];
  return queryRows<StockUnit & ReservationUnit>(
    db,
    `select u.id, u.serial_number as "serialNumber", u.product_id as "productId", u.lot_id as "lotId", u.status, u.reservation_id as "reservationId"
       from stock_units u where u.lot_id = any($1::uuid[]) order by u.lot_id, u.serial_number, u.id`,
    [lotIds],
  );
}

/** The units a reservation holds or held (any status), as the picker sees them, in serial number order. */
export async function findUnitsOfReservation(db: Queryable, reservationId: string): Promise<StockUnit[]> {
  return queryRows<StockUnit>(
    db,
    `select u.id, u.serial_number as "serialNumber", u.lot_id as "lotId", u.status, u.reservation_id as "reservationId"
       from stock_units u where u.reservation_id = $1 order by u.serial_number, u.id`,
    [reservationId],
  );
}

/** A unit as found by serial number: where it is, what state it is in and which life of its serial number. */
export type UnitBySerial = {
  id: string;
  productId: string;
  serialNumber: string;
  lotId: string;
  warehouseId: string;
  status: UnitStatus;
  reservationId: string | null;
  life: number;
};

/** The current units of a product with these serial numbers (those that exist). */
export async function findUnitsBySerial(db: Queryable, productId: string, serialNumbers: readonly string[]): Promise<UnitBySerial[]> {
  if (serialNumbers.length === 0) return [];
  return queryRows<UnitBySerial>(
    db,
    `select u.id, u.product_id as "productId", u.serial_number as "serialNumber", u.lot_id as "lotId", u.warehouse_id as "warehouseId",
            u.status, u.reservation_id as "reservationId", u.life
       from stock_units u
      where u.product_id = $1 and u.serial_number = any($2::text[]) and ${unitIsCurrentSql}
      order by u.serial_number`,
    [productId, serialNumbers],
  );
}

/** The current units with these serial numbers of these products (those that exist). */
export async function findUnitsBySerials(db: Queryable, wanted: readonly { productId: string; serialNumber: string }[]): Promise<UnitBySerial[]> {
  if (wanted.length === 0) return [];
  return queryRows<UnitBySerial>(
    db,
    `select u.id, u.product_id as "productId", u.serial_number as "serialNumber", u.lot_id as "lotId", u.warehouse_id as "warehouseId",
            u.status, u.reservation_id as "reservationId", u.life
       from stock_units u
       join (select distinct * from unnest($1::text[], $2::text[])) as w(product_id, serial_number)
         on w.product_id = u.product_id and w.serial_number = u.serial_number
      where ${unitIsCurrentSql}`,
    [wanted.map((want) => want.productId), wanted.map((want) => want.serialNumber)],
  );
}

/** The statement registering received units (a part of commitWrites). */
export function unitsInsert(rows: readonly (ReceivedUnit & { at: Date })[]): Sql {
  return sql`insert into stock_units (id, product_id, warehouse_id, lot_id, serial_number, condition, status, life, previous_unit_id, created_at, updated_at)
       select id, product_id, warehouse_id, lot_id, serial_number, condition, 'AVAILABLE', life, previous_unit_id, at, at
         from unnest(${rows.map((row) => row.id)}::uuid[], ${rows.map((row) => row.productId)}::text[], ${rows.map((row) => row.warehouseId)}::text[],
                     ${rows.map((row) => row.lotId)}::uuid[], ${rows.map((row) => row.serialNumber)}::text[], ${rows.map((row) => row.condition)}::text[],
                     ${rows.map((row) => row.life)}::int[], ${rows.map((row) => row.previousUnitId)}::uuid[], ${rows.map((row) => row.at)}::timestamptz[])
           as r(id, product_id, warehouse_id, lot_id, serial_number, condition, life, previous_unit_id, at)`;
}

/** The statement setting units' new states (a part of commitWrites); one change per unit. */
export function unitsUpdate(changes: readonly (UnitChange & { at: Date })[]): Sql {
  return sql`update stock_units u
        set status = d.status, reservation_id = d.reservation_id, updated_at = d.at
       from unnest(${changes.map((change) => change.id)}::uuid[], ${changes.map((change) => change.status)}::text[],
                   ${changes.map((change) => change.reservationId)}::uuid[], ${changes.map((change) => change.at)}::timestamptz[])
         as d(id, status, reservation_id, at)
      where u.id = d.id`;
}

/** The statement appending unit status history (a part of commitWrites), in the order the steps were taken. */
export function unitHistoryInsert(rows: readonly UnitStepRow[]): Sql {
  return sql`insert into unit_status_history (unit_id, from_status, to_status, reason, reference, actor, created_at)
       select unit_id, from_status, to_status, reason, reference, actor, at
         from unnest(${rows.map((row) => row.unitId)}::uuid[], ${rows.map((row) => row.fromStatus)}::text[], ${rows.map((row) => row.toStatus)}::text[],
                     ${rows.map((row) => row.reason)}::text[], ${rows.map((row) => row.reference)}::text[], ${rows.map((row) => row.actor)}::text[],
                     ${rows.map((row) => row.at)}::timestamptz[])
           with ordinality as s(unit_id, from_status, to_status, reason, reference, actor, at, n)
        order by n`;
}

/** A lot of a serial-tracked product whose quantities differ from the counts of its units. */
export type UnitDifference = {
  lotId: string;
  productId: string;
  warehouseId: string;
  stored: { quantity: number; reserved: number; allocated: number };
  units: { quantity: number; reserved: number; allocated: number };
};

/** Counts the units of every lot of serial-tracked products and returns the lots whose quantities disagree (none when all is well). */
export async function findUnitDifferences(db: Queryable): Promise<{ lotsChecked: number; differences: UnitDifference[] }> {
  const rows = await queryRows<UnitDifference & { differs: boolean }>(
    db,
    `select i.id as "lotId", i.product_id as "productId", i.warehouse_id as "warehouseId",
            json_build_object('quantity', i.quantity, 'reserved', i.reserved_quantity, 'allocated', i.allocated_quantity) as stored,
            json_build_object('quantity', coalesce(c.quantity, 0), 'reserved', coalesce(c.reserved, 0), 'allocated', coalesce(c.allocated, 0)) as units,
            (i.quantity, i.reserved_quantity, i.allocated_quantity)
              is distinct from (coalesce(c.quantity, 0), coalesce(c.reserved, 0), coalesce(c.allocated, 0)) as differs
       from inventory_items i
       join products p on p.id = i.product_id and p.tracking = 'serial'
       left join (select u.lot_id, count(*)::int as quantity,
                         (count(*) filter (where u.status = 'RESERVED'))::int as reserved,
                         (count(*) filter (where u.status = 'SOLD'))::int as allocated
                    from stock_units u where ${unitInStockSql} group by u.lot_id) c on c.lot_id = i.id`,
  );
  return {
    lotsChecked: rows.length,
    differences: rows.filter((row) => row.differs).map(({ differs: _differs, ...difference }) => difference),
  };
}

/** A unit as the unit calls show it, with the order and owner of its reservation (null without one). */
export type UnitRow = {
  id: string;
  productId: string;
  serialNumber: string;
  warehouseId: string;
  lotId: string;
  lotNumber: string | null;
  condition: string;
  status: UnitStatus;
  reservationId: string | null;
  orderId: string | null;
  owner: string | null;
  life: number;
  previousUnitId: string | null;
  createdAt: Date;
  updatedAt: Date;
};

const unitRowColumns = `u.id, u.product_id as "productId", u.serial_number as "serialNumber", u.warehouse_id as "warehouseId", u.lot_id as "lotId",
  i.lot_number as "lotNumber", u.condition, u.status, u.reservation_id as "reservationId", r.order_id as "orderId", r.owner,
  u.life, u.previous_unit_id as "previousUnitId", u.created_at as "createdAt", u.updated_at as "updatedAt"`;
const unitRowSources = `stock_units u join inventory_items i on i.id = u.lot_id left join reservations r on r.id = u.reservation_id`;

/** Which units a lookup returns: every field given narrows it. `order` matches units of that order's reservations (of `owner` when given); `after` continues after that unit. */
export type UnitFilter = {
  productId?: string;
  statuses?: readonly UnitStatus[];
  order?: { orderId: string; owner?: string };
  serialNumber?: string;
  warehouseId?: string;
  after?: string;
  limit: number;
};

/**
 * Current units (the latest life of each serial number) by product and serial number, without
 * locking them. Only the filters given become conditions; the order is that of
 * stock_units_product_serial_life_key, one current unit per (product, serial number), so a page
 * continues after its last unit by (product, serial number).
 */
export async function searchUnits(db: Queryable, filter: UnitFilter): Promise<UnitRow[]> {
  const conditions: Sql[] = [raw(unitIsCurrentSql)];
  if (filter.productId !== undefined) conditions.push(sql`u.product_id = ${filter.productId}`);
  if (filter.statuses !== undefined) conditions.push(sql`u.status = any(${filter.statuses}::text[])`);
  if (filter.serialNumber !== undefined) conditions.push(sql`u.serial_number = ${filter.serialNumber}`);
  if (filter.warehouseId !== undefined) conditions.push(sql`u.warehouse_id = ${filter.warehouseId}`);
  if (filter.order !== undefined) {
    const { orderId, owner } = filter.order;
    const ofOwner = owner === undefined ? raw('') : sql`and o.owner = ${owner}`;
    conditions.push(sql`u.reservation_id in (select o.id from reservations o where o.order_id = ${orderId} ${ofOwner})`);
  }
  if (filter.after !== undefined) {
    conditions.push(sql`(u.product_id, u.serial_number) > (select c.product_id, c.serial_number from stock_units c where c.id = ${filter.after}::uuid)`);
  }
  const { text, values } = toQuery(sql`select ${raw(unitRowColumns)} from ${raw(unitRowSources)}
      ${whereAll(conditions)}
      order by u.product_id, u.serial_number
      limit ${filter.limit}`);
  return queryRows<UnitRow>(db, text, values);
}

/** The units of these reservations, by product and serial number. */
export async function findUnitRowsOfReservations(db: Queryable, reservationIds: readonly string[]): Promise<UnitRow[]> {
  if (reservationIds.length === 0) return [];
  return queryRows<UnitRow>(
    db,
    `select ${unitRowColumns} from ${unitRowSources} where u.reservation_id = any($1::uuid[]) order by u.product_id, u.serial_number`,
    [reservationIds],
  );
}

/** The current units with this serial number, of any product (of `productId` only, when given). */
export async function findUnitRowsBySerial(db: Queryable, serialNumber: string, productId?: string): Promise<UnitRow[]> {
  return queryRows<UnitRow>(
    db,
    `select ${unitRowColumns} from ${unitRowSources}
      where u.serial_number = $1 and ($2::text is null or u.product_id = $2) and ${unitIsCurrentSql}
      order by u.product_id`,
    [serialNumber, productId ?? null],
  );
}

/** The current units of one product with these serial numbers (those that exist), by serial number. */
export async function findUnitRowsOfProduct(db: Queryable, productId: string, serialNumbers: readonly string[]): Promise<UnitRow[]> {
  return queryRows<UnitRow>(
    db,
    `select ${unitRowColumns} from ${unitRowSources}
      where u.product_id = $1 and u.serial_number = any($2::text[]) and ${unitIsCurrentSql}
      order by u.serial_number`,
    [productId, serialNumbers],
  );
}

/** A step of a unit's status history as stored, with the unit (the life of its serial number) it is a step of. */
export type UnitHistoryRow = {
  unitId: string;
  life: number;
  fromStatus: UnitStatus | null;
  toStatus: UnitStatus;
  reason: string | null;
  reference: string | null;
  actor: string;
  at: Date;
};

/** The status history of a product's serial number across all its lives, oldest first. */
export async function findSerialHistory(db: Queryable, productId: string, serialNumber: string): Promise<UnitHistoryRow[]> {
  return queryRows<UnitHistoryRow>(
    db,
    `select h.unit_id as "unitId", u.life, h.from_status as "fromStatus", h.to_status as "toStatus", h.reason, h.reference, h.actor, h.created_at as at
       from stock_units u join unit_status_history h on h.unit_id = u.id
      where u.product_id = $1 and u.serial_number = $2
      order by u.life, h.id`,
    [productId, serialNumber],
  );
}
