import type { NewReservation, NewReservationLine, ReservationStatus, StatusChange } from '../domain/reservation';
import { queryRow, queryRows, type Queryable, type Transaction } from './client';
import { isOneOf, raw, sql, toQuery, whereAll, type Sql } from './sql';

/** A reservation as stored. */
export type ReservationRow = NewReservation & { version: number; updatedAt: Date };

/** A reservation line as stored, with its lot's number. */
export type ReservationLineRow = {
  id: string;
  reservationId: string;
  lotId: string;
  lotNumber: string | null;
  productId: string;
  warehouseId: string;
  quantity: number;
  allocatedQuantity: number;
  shippedQuantity: number;
  releasedQuantity: number;
  /** units moved to another reservation */
  movedQuantity: number;
};

/**
 * SQL mirror of the lapse in `effectiveStatus` (src/domain/reservation.ts): true when the
 * reservation of alias `r` is a RESERVED hold whose time ran out by `now`. Written as a plain
 * conjunction, so reservations_status_expiry_idx finds such holds.
 */
export function lapsedHoldSql(now: Date): Sql {
  return sql`(r.status = 'RESERVED' and r.expires_at <= ${now}::timestamptz)`;
}

/**
 * SQL mirror of `effectiveStatus` (src/domain/reservation.ts): the status a reservation of alias
 * `r` reads as at `now`.
 */
export function effectiveStatusSql(now: Date): Sql {
  return sql`(case when ${lapsedHoldSql(now)} then 'EXPIRED' else r.status end)`;
}

/** The stored statuses whose reservations may read as `status`: a lapsed RESERVED hold reads as EXPIRED. */
function storedStatusesReadingAs(status: ReservationStatus): ReservationStatus[] {
  return status === 'EXPIRED' ? ['EXPIRED', 'RESERVED'] : [status];
}

const reservationColumns = `r.id, r.owner, r.order_id as "orderId", r.customer_id as "customerId", r.status, r.priority, r.strategy,
  r.expires_at as "expiresAt", r.version, r.created_at as "createdAt", r.updated_at as "updatedAt"`;

/** The statement inserting reservations (a part of commitWrites). */
export function reservationsInsert(rows: readonly NewReservation[]): Sql {
  return sql`insert into reservations (id, owner, order_id, customer_id, status, priority, strategy, expires_at, created_at, updated_at)
       select id, owner, order_id, customer_id, status, priority, strategy, expires_at, created_at, created_at
         from unnest(${rows.map((row) => row.id)}::uuid[], ${rows.map((row) => row.owner)}::text[], ${rows.map((row) => row.orderId)}::text[],
                     ${rows.map((row) => row.customerId)}::text[], ${rows.map((row) => row.status)}::text[], ${rows.map((row) => row.priority)}::text[],
                     ${rows.map((row) => row.strategy)}::text[], ${rows.map((row) => row.expiresAt)}::timestamptz[], ${rows.map((row) => row.createdAt)}::timestamptz[])
           as r(id, owner, order_id, customer_id, status, priority, strategy, expires_at, created_at)`;
}

/** The statement inserting reservation lines (a part of commitWrites). */
export function reservationLinesInsert(rows: readonly NewReservationLine[]): Sql {
  return sql`insert into reservation_lines (id, reservation_id, lot_id, product_id, warehouse_id, quantity, allocated_quantity)
       select * from unnest(${rows.map((row) => row.id)}::uuid[], ${rows.map((row) => row.reservationId)}::uuid[], ${rows.map((row) => row.lotId)}::uuid[],
                            ${rows.map((row) => row.productId)}::text[], ${rows.map((row) => row.warehouseId)}::text[], ${rows.map((row) => row.quantity)}::int[],
                            ${rows.map((row) => row.allocatedQuantity)}::int[])`;
}

/** The statement appending status history rows (a part of commitWrites). */
export function statusHistoryInsert(rows: readonly StatusChange[]): Sql {
  return sql`insert into reservation_status_history (reservation_id, from_status, to_status, reason, reference, actor, created_at)
       select * from unnest(${rows.map((row) => row.reservationId)}::uuid[], ${rows.map((row) => row.fromStatus)}::text[], ${rows.map((row) => row.toStatus)}::text[],
                            ${rows.map((row) => row.reason)}::text[], ${rows.map((row) => row.reference)}::text[], ${rows.map((row) => row.actor)}::text[],
                            ${rows.map((row) => row.at)}::timestamptz[])`;
}

/** Reads a reservation without locking it. */
export async function findReservation(db: Queryable, id: string): Promise<ReservationRow | undefined> {
  return queryRow<ReservationRow>(db, `select ${reservationColumns} from reservations r where r.id = $1`, [id]);
}

/** The owner of each of these ids that is a reservation's. */
export async function findReservationOwners(db: Queryable, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await queryRows<{ id: string; owner: string }>(db, `select id, owner from reservations where id = any($1::uuid[])`, [[...new Set(ids)]]);
  return new Map(rows.map((row) => [row.id, row.owner]));
}

/** The reservations of an order (of one owner, or of every owner's order of that id), oldest first, without locking them. */
export async function findReservationsOfOrderIn(db: Queryable, orderId: string, owner: string | undefined): Promise<ReservationRow[]> {
  return queryRows<ReservationRow>(
    db,
    `select ${reservationColumns} from reservations r where r.order_id = $1 and ($2::text is null or r.owner = $2) order by r.created_at, r.id`,
    [orderId, owner ?? null],
  );
}

/** Locks these reservations in id order (waits for whoever holds them). */
export async function lockReservations(tx: Transaction, ids: readonly string[]): Promise<ReservationRow[]> {
  if (ids.length === 0) return [];
  return queryRows<ReservationRow>(tx, `select ${reservationColumns} from reservations r where r.id = any($1::uuid[]) order by r.id for update`, [
    [...new Set(ids)],
  ]);
}

/** The reservations an owner made for its order, oldest first, without locking them. */
export async function findReservationsOfOrder(db: Queryable, owner: string, orderId: string): Promise<ReservationRow[]> {
  return queryRows<ReservationRow>(db, `select ${reservationColumns} from reservations r where r.owner = $1 and r.order_id = $2 order by r.created_at, r.id`, [
    owner,
    orderId,
  ]);
}

/** Which reservations a lookup returns: every field given narrows it. `after` continues a listing after that reservation. */
export type ReservationFilter = {
  owner?: string;
  orderId?: string;
  /** any of these statuses as they read at `at` (a lapsed RESERVED hold reads EXPIRED) */
  status?: { anyOf: readonly ReservationStatus[]; at: Date };
  productId?: string;
  warehouseId?: string;
  createdFrom?: Date;
  createdTo?: Date;
  expiresFrom?: Date;
  expiresTo?: Date;
  after?: string;
  limit: number;
};

/**
 * Reservations newest first (by creation, then id), without locking them. Only the filters given
 * become conditions, so each is served by its index: owner, owner and order, status and creation time by indexes
 * ending in (created_at, id), expiry by (expires_at), product and warehouse through the lines'
 * (product_id, reservation_id) and (warehouse_id, reservation_id). A status filter names the stored
 * statuses that may read as it (an indexed condition) and then checks the status as read at `now`.
 */
export async function searchReservations(db: Queryable, filter: ReservationFilter): Promise<ReservationRow[]> {
  const conditions: Sql[] = [];
  if (filter.owner !== undefined) conditions.push(sql`r.owner = ${filter.owner}`);
  if (filter.orderId !== undefined) conditions.push(sql`r.order_id = ${filter.orderId}`);
  if (filter.status !== undefined) {
    const { anyOf, at } = filter.status;
    conditions.push(sql`r.status ${isOneOf([...new Set(anyOf.flatMap(storedStatusesReadingAs))])}`);
    conditions.push(sql`${effectiveStatusSql(at)} = any(${anyOf}::text[])`);
  }
  if (filter.productId !== undefined) {
    conditions.push(sql`exists (select 1 from reservation_lines l where l.product_id = ${filter.productId} and l.reservation_id = r.id)`);
  }
  if (filter.warehouseId !== undefined) {
    conditions.push(sql`exists (select 1 from reservation_lines l where l.warehouse_id = ${filter.warehouseId} and l.reservation_id = r.id)`);
  }
  if (filter.createdFrom !== undefined) conditions.push(sql`r.created_at >= ${filter.createdFrom}`);
  if (filter.createdTo !== undefined) conditions.push(sql`r.created_at < ${filter.createdTo}`);
  if (filter.expiresFrom !== undefined) conditions.push(sql`r.expires_at >= ${filter.expiresFrom}`);
  if (filter.expiresTo !== undefined) conditions.push(sql`r.expires_at < ${filter.expiresTo}`);
  if (filter.after !== undefined) {
    conditions.push(sql`(r.created_at, r.id) < (select c.created_at, c.id from reservations c where c.id = ${filter.after}::uuid)`);
  }
  const { text, values } = toQuery(sql`select ${raw(reservationColumns)} from reservations r
      ${whereAll(conditions)}
      order by r.created_at desc, r.id desc
      limit ${filter.limit}`);
  return queryRows<ReservationRow>(db, text, values);
}

/** Locks the reservations of an owner's order in id order (the lots they hold are locked after, as for any change of a reservation). */
export async function lockReservationsOfOrder(tx: Transaction, owner: string, orderId: string): Promise<ReservationRow[]> {
  return queryRows<ReservationRow>(tx, `select ${reservationColumns} from reservations r where r.owner = $1 and r.order_id = $2 order by r.id for update`, [
    owner,
    orderId,
  ]);
}

/** Locks a reservation for a change of status or lines (waits for whoever holds it). */
export async function lockReservation(tx: Transaction, id: string): Promise<ReservationRow | undefined> {
  return queryRow<ReservationRow>(tx, `select ${reservationColumns} from reservations r where r.id = $1 for update`, [id]);
}

/**
 * Locks those of the reservations nobody else holds, skipping the busy ones: a backorder fill,
 * which already holds lots, must never wait for a reservation whose holder may be waiting for those lots.
 */
export async function lockFreeReservations(tx: Transaction, ids: readonly string[]): Promise<ReservationRow[]> {
  if (ids.length === 0) return [];
  return queryRows<ReservationRow>(tx, `select ${reservationColumns} from reservations r where r.id = any($1::uuid[]) order by r.id for update skip locked`, [
    ids,
  ]);
}

/**
 * Claims up to `limit` RESERVED reservations whose hold ended by `now`, skipping those another
 * sweeper or caller holds. With `onLots`, only those holding units on these lots and on no other
 * lot: the allocation engine expires in line what the lots it already holds free, and never needs
 * a lot it has not locked.
 */
export async function claimExpiredReservations(tx: Transaction, now: Date, limit: number, onLots?: readonly string[]): Promise<ReservationRow[]> {
  // a line of r still holding reserved units: the SQL twin of heldOf (src/inventory/reservations/transitions.ts)
  const held = sql`l.reservation_id = r.id and l.quantity - l.allocated_quantity - l.released_quantity - l.moved_quantity > 0`;
  const onlyOnLots =
    onLots === undefined
      ? raw('')
      : sql`and exists (select 1 from reservation_lines l where ${held} and l.lot_id = any(${onLots}::uuid[]))
            and not exists (select 1 from reservation_lines l where ${held} and l.lot_id <> all(${onLots}::uuid[]))`;
  const { text, values } = toQuery(sql`select ${raw(reservationColumns)} from reservations r
      where ${lapsedHoldSql(now)} ${onlyOnLots}
      order by r.expires_at, r.id
      limit ${limit}
        for update skip locked`);
  return queryRows<ReservationRow>(tx, text, values);
}

/** The columns of ReservationLineRow, with each line's lot number, for the line queries below to filter and order. */
const reservationLinesSelect = `select l.id, l.reservation_id as "reservationId", l.lot_id as "lotId", i.lot_number as "lotNumber",
            l.product_id as "productId", l.warehouse_id as "warehouseId", l.quantity,
            l.allocated_quantity as "allocatedQuantity", l.shipped_quantity as "shippedQuantity",
            l.released_quantity as "releasedQuantity", l.moved_quantity as "movedQuantity"
       from reservation_lines l join inventory_items i on i.id = l.lot_id`;

/** The lines of the reservations, each reservation's in the order they were taken. */
export async function findReservationLines(db: Queryable, reservationIds: readonly string[]): Promise<ReservationLineRow[]> {
  if (reservationIds.length === 0) return [];
  return queryRows<ReservationLineRow>(
    db,
    `${reservationLinesSelect}
      where l.reservation_id = any($1::uuid[])
      order by l.reservation_id, l.id`,
    [reservationIds],
  );
}

/** Every reservation's lines on these lots, by lot and reservation. */
export async function findLinesOfLots(db: Queryable, lotIds: readonly string[]): Promise<ReservationLineRow[]> {
  if (lotIds.length === 0) return [];
  return queryRows<ReservationLineRow>(
    db,
    `${reservationLinesSelect}
      where l.lot_id = any($1::uuid[])
      order by l.lot_id, l.reservation_id, l.id`,
    [lotIds],
  );
}

/** A change of a line's allocated, shipped, released and moved parts. */
export type LineChange = { id: string; allocatedDelta?: number; shippedDelta?: number; releasedDelta?: number; movedDelta?: number };

/** The statement applying line changes (a part of commitWrites); a change that breaks the lines' CHECK fails it. */
export function reservationLinesUpdate(changes: readonly LineChange[]): Sql {
  return sql`update reservation_lines l
        set allocated_quantity = l.allocated_quantity + d.allocated,
            shipped_quantity = l.shipped_quantity + d.shipped,
            released_quantity = l.released_quantity + d.released,
            moved_quantity = l.moved_quantity + d.moved
       from unnest(${changes.map((change) => change.id)}::uuid[], ${changes.map((change) => change.allocatedDelta ?? 0)}::int[],
                   ${changes.map((change) => change.shippedDelta ?? 0)}::int[], ${changes.map((change) => change.releasedDelta ?? 0)}::int[],
                   ${changes.map((change) => change.movedDelta ?? 0)}::int[])
         as d(id, allocated, shipped, released, moved)
      where l.id = d.id`;
}

/** A change of a reservation: a new status and/or expiry (absent ones are kept); its version moves on either way. */
export type ReservationChange = { id: string; status?: ReservationStatus; expiresAt?: Date; at: Date };

/** The statement applying reservation changes, one per reservation (a part of commitWrites). */
export function reservationsUpdate(changes: readonly ReservationChange[]): Sql {
  return sql`update reservations r
        set status = coalesce(d.status, r.status),
            expires_at = coalesce(d.expires_at, r.expires_at),
            version = r.version + 1,
            updated_at = d.at
       from unnest(${changes.map((change) => change.id)}::uuid[], ${changes.map((change) => change.status ?? null)}::text[],
                   ${changes.map((change) => change.expiresAt ?? null)}::timestamptz[], ${changes.map((change) => change.at)}::timestamptz[])
         as d(id, status, expires_at, at)
      where r.id = d.id`;
}

/** A reservation's status history, oldest first. */
export async function findStatusHistory(db: Queryable, reservationId: string): Promise<StatusChange[]> {
  return queryRows<StatusChange>(
    db,
    `select reservation_id as "reservationId", from_status as "fromStatus", to_status as "toStatus", reason, reference,
            actor, created_at as at
       from reservation_status_history where reservation_id = $1 order by id`,
    [reservationId],
  );
}
