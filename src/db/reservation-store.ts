import type { ReservationStatus } from '../domain/reservation';
import type { Priority, Strategy } from '../domain/strategies';
import { queryRow, queryRows, statementValues, whereAll, type Queryable, type Statement, type Transaction } from './client';

/** A reservation as stored. */
export type ReservationRow = {
  id: string;
  orderId: string;
  customerId: string | null;
  status: ReservationStatus;
  priority: Priority;
  strategy: Strategy;
  expiresAt: Date;
  version: number;
  createdAt: Date;
  updatedAt: Date;
};

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
};

export type NewReservation = Omit<ReservationRow, 'version' | 'updatedAt'>;
export type NewReservationLine = Omit<ReservationLineRow, 'lotNumber' | 'shippedQuantity' | 'releasedQuantity'>;

/** One row of a reservation's status history. */
export type StatusChange = {
  reservationId: string;
  fromStatus: ReservationStatus | null;
  toStatus: ReservationStatus;
  reason: string | null;
  reference: string | null;
  actor: string;
  at: Date;
};

/**
 * SQL mirror of `effectiveStatus` (src/domain/reservation.ts): the status a reservation of alias
 * `r` reads as at the timestamptz parameter `now` (e.g. `$3`).
 */
export function effectiveStatusSql(now: string): string {
  return `(case when r.status = 'RESERVED' and r.expires_at <= ${now} then 'EXPIRED' else r.status end)`;
}

/** The stored statuses whose reservations may read as `status`: a lapsed RESERVED hold reads as EXPIRED. */
function storedStatusesReadingAs(status: ReservationStatus): ReservationStatus[] {
  return status === 'EXPIRED' ? ['EXPIRED', 'RESERVED'] : [status];
}

const reservationColumns = `r.id, r.order_id as "orderId", r.customer_id as "customerId", r.status, r.priority, r.strategy,
  r.expires_at as "expiresAt", r.version, r.created_at as "createdAt", r.updated_at as "updatedAt"`;

/** The statement inserting reservations (run it with runTogether). */
export function reservationsInsert(rows: readonly NewReservation[]): Statement | undefined {
  if (rows.length === 0) return undefined;
  return {
    text: `insert into reservations (id, order_id, customer_id, status, priority, strategy, expires_at, created_at, updated_at)
       select id, order_id, customer_id, status, priority, strategy, expires_at, created_at, created_at
         from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[])
           as r(id, order_id, customer_id, status, priority, strategy, expires_at, created_at)`,
    values: [
      rows.map((row) => row.id),
      rows.map((row) => row.orderId),
      rows.map((row) => row.customerId),
      rows.map((row) => row.status),
      rows.map((row) => row.priority),
      rows.map((row) => row.strategy),
      rows.map((row) => row.expiresAt),
      rows.map((row) => row.createdAt),
    ],
  };
}

/** The statement inserting reservation lines (run it with runTogether). */
export function reservationLinesInsert(rows: readonly NewReservationLine[]): Statement | undefined {
  if (rows.length === 0) return undefined;
  return {
    text: `insert into reservation_lines (id, reservation_id, lot_id, product_id, warehouse_id, quantity, allocated_quantity)
       select * from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::int[], $7::int[])`,
    values: [
      rows.map((row) => row.id),
      rows.map((row) => row.reservationId),
      rows.map((row) => row.lotId),
      rows.map((row) => row.productId),
      rows.map((row) => row.warehouseId),
      rows.map((row) => row.quantity),
      rows.map((row) => row.allocatedQuantity),
    ],
  };
}

/** The statement appending status history rows (run it with runTogether). */
export function statusHistoryInsert(rows: readonly StatusChange[]): Statement | undefined {
  if (rows.length === 0) return undefined;
  return {
    text: `insert into reservation_status_history (reservation_id, from_status, to_status, reason, reference, actor, created_at)
       select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])`,
    values: [
      rows.map((row) => row.reservationId),
      rows.map((row) => row.fromStatus),
      rows.map((row) => row.toStatus),
      rows.map((row) => row.reason),
      rows.map((row) => row.reference),
      rows.map((row) => row.actor),
      rows.map((row) => row.at),
    ],
  };
}

/** Reads a reservation without locking it. */
export async function findReservation(db: Queryable, id: string): Promise<ReservationRow | undefined> {
  return queryRow<ReservationRow>(db, `select ${reservationColumns} from reservations r where r.id = $1`, [id]);
}

/** The reservations made for an order, oldest first, without locking them. */
export async function findReservationsOfOrder(db: Queryable, orderId: string): Promise<ReservationRow[]> {
  return queryRows<ReservationRow>(db, `select ${reservationColumns} from reservations r where r.order_id = $1 order by r.created_at, r.id`, [orderId]);
}

/** Which reservations a lookup returns: every field given narrows it. `after` continues a listing after that reservation. */
export type ReservationFilter = {
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
 * become conditions, so each is served by its index: order, status and creation time by indexes
 * ending in (created_at, id), expiry by (expires_at), product and warehouse through the lines'
 * (product_id, reservation_id) and (warehouse_id, reservation_id). A status filter names the stored
 * statuses that may read as it (an indexed condition) and then checks the status as read at `now`.
 */
export async function searchReservations(db: Queryable, filter: ReservationFilter): Promise<ReservationRow[]> {
  const { values, add, isOneOf } = statementValues();
  const conditions: string[] = [];
  if (filter.orderId !== undefined) conditions.push(`r.order_id = ${add(filter.orderId)}`);
  if (filter.status !== undefined) {
    const { anyOf, at } = filter.status;
    conditions.push(`r.status ${isOneOf([...new Set(anyOf.flatMap(storedStatusesReadingAs))])}`);
    conditions.push(`${effectiveStatusSql(`${add(at)}::timestamptz`)} = any(${add(anyOf)}::text[])`);
  }
  if (filter.productId !== undefined) {
    conditions.push(`exists (select 1 from reservation_lines l where l.product_id = ${add(filter.productId)} and l.reservation_id = r.id)`);
  }
  if (filter.warehouseId !== undefined) {
    conditions.push(`exists (select 1 from reservation_lines l where l.warehouse_id = ${add(filter.warehouseId)} and l.reservation_id = r.id)`);
  }
  if (filter.createdFrom !== undefined) conditions.push(`r.created_at >= ${add(filter.createdFrom)}`);
  if (filter.createdTo !== undefined) conditions.push(`r.created_at < ${add(filter.createdTo)}`);
  if (filter.expiresFrom !== undefined) conditions.push(`r.expires_at >= ${add(filter.expiresFrom)}`);
  if (filter.expiresTo !== undefined) conditions.push(`r.expires_at < ${add(filter.expiresTo)}`);
  if (filter.after !== undefined) {
    conditions.push(`(r.created_at, r.id) < (select c.created_at, c.id from reservations c where c.id = ${add(filter.after)}::uuid)`);
  }
  return queryRows<ReservationRow>(
    db,
    `select ${reservationColumns} from reservations r
      ${whereAll(conditions)}
      order by r.created_at desc, r.id desc
      limit ${add(filter.limit)}`,
    values,
  );
}

/** Locks the reservations of an order in id order (the lots they hold are locked after, as for any change of a reservation). */
export async function lockReservationsOfOrder(tx: Transaction, orderId: string): Promise<ReservationRow[]> {
  return queryRows<ReservationRow>(tx, `select ${reservationColumns} from reservations r where r.order_id = $1 order by r.id for update`, [orderId]);
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

/** Claims up to `limit` RESERVED reservations whose hold ended by `now`, skipping those another sweeper or caller holds. */
export async function claimExpiredReservations(tx: Transaction, now: Date, limit: number): Promise<ReservationRow[]> {
  return queryRows<ReservationRow>(
    tx,
    `select ${reservationColumns} from reservations r
      where r.status = 'RESERVED' and ${effectiveStatusSql('$1')} = 'EXPIRED'
      order by r.expires_at, r.id
      limit $2
        for update skip locked`,
    [now, limit],
  );
}

/** The lines of the reservations, each reservation's in the order they were taken. */
export async function findReservationLines(db: Queryable, reservationIds: readonly string[]): Promise<ReservationLineRow[]> {
  if (reservationIds.length === 0) return [];
  return queryRows<ReservationLineRow>(
    db,
    `select l.id, l.reservation_id as "reservationId", l.lot_id as "lotId", i.lot_number as "lotNumber",
            l.product_id as "productId", l.warehouse_id as "warehouseId", l.quantity,
            l.allocated_quantity as "allocatedQuantity", l.shipped_quantity as "shippedQuantity",
            l.released_quantity as "releasedQuantity"
       from reservation_lines l join inventory_items i on i.id = l.lot_id
      where l.reservation_id = any($1::uuid[])
      order by l.reservation_id, l.id`,
    [reservationIds],
  );
}

/** A change of a line's allocated, shipped and released parts. */
export type LineChange = { id: string; allocatedDelta?: number; shippedDelta?: number; releasedDelta?: number };

/** Applies line changes in one statement; a change that breaks the lines' CHECK fails the statement. */
export async function updateReservationLines(tx: Transaction, changes: readonly LineChange[]): Promise<void> {
  if (changes.length === 0) return;
  await tx.query(
    `update reservation_lines l
        set allocated_quantity = l.allocated_quantity + d.allocated,
            shipped_quantity = l.shipped_quantity + d.shipped,
            released_quantity = l.released_quantity + d.released
       from unnest($1::uuid[], $2::int[], $3::int[], $4::int[]) as d(id, allocated, shipped, released)
      where l.id = d.id`,
    [
      changes.map((change) => change.id),
      changes.map((change) => change.allocatedDelta ?? 0),
      changes.map((change) => change.shippedDelta ?? 0),
      changes.map((change) => change.releasedDelta ?? 0),
    ],
  );
}

/** Sets statuses (null keeps a status) and expiries (null keeps one) and bumps each version, in one statement. */
export async function updateReservations(
  tx: Transaction,
  changes: readonly { id: string; status?: ReservationStatus; expiresAt?: Date }[],
  now: Date,
): Promise<void> {
  if (changes.length === 0) return;
  await tx.query(
    `update reservations r
        set status = coalesce(d.status, r.status),
            expires_at = coalesce(d.expires_at, r.expires_at),
            version = r.version + 1,
            updated_at = $4
       from unnest($1::uuid[], $2::text[], $3::timestamptz[]) as d(id, status, expires_at)
      where r.id = d.id`,
    [changes.map((change) => change.id), changes.map((change) => change.status ?? null), changes.map((change) => change.expiresAt ?? null), now],
  );
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
