/**
 * The locks a transaction that changes stock takes, always in one order, so that no two
 * transactions can wait for each other in a circle:
 *
 *   1. the row being changed, when there is one (an allocation job, a reservation, a transfer) —
 *      by its own store, before anything below; an order event first takes its order's mutex;
 *   2. lots, in id order, all of them in one statement;
 *   3. the stock settings of those lots' product/warehouse pairs (and of any pair named besides),
 *      in (product, warehouse) order — the low-stock rule decides under them;
 *   4. the advisory locks of the stock aggregates whose events are written (commitWrites takes
 *      them just before the write), so outbox ids follow commit order per aggregate.
 *
 * lockFor takes 2 and 3; it is the only way to lock lots or stock settings. It may be called again
 * in the same transaction only for lots it already holds (a backorder fill after a release), so no
 * lot is ever locked after a stock setting. Rows a fill may add to (open backorders, free
 * reservations) are taken after these: backorders are only ever locked after their products' lots,
 * and reservations with SKIP LOCKED.
 */
import { lockWait } from '../metrics';
import { queryRows, type Transaction } from './client';
import { productRefusesReservationsSql } from './catalogue-store';
import { findLotsOfProducts, lotColumns, warehouseServesSql, type LotRow } from './lot-store';
import type { LowStockSettings, StockPair } from './low-stock-store';
import { join, raw, sql, toQuery, type Sql } from './sql';

/** Which lots a transaction locks. */
export type LotSelection = {
  /** every lot of these products in warehouses that serve (warehouseServesSql): what filling a backorder may take from */
  servingProducts?: readonly string[];
  /** as servingProducts, of those products that take new reservations (productRefusesReservationsSql): what a new request may take from */
  reservingProducts?: readonly string[];
  /** every lot of these products, in active warehouses or not: releasing held stock, and filling backorders from it */
  products?: readonly string[];
  /** every lot of these products at these warehouses (active or not: an admin may still count or move out their stock) */
  places?: readonly StockPair[];
  /** these lots */
  lotIds?: readonly string[];
};

/** What lockFor holds until commit: the lots (id order) and the stock settings of their pairs. */
export type StockLocks = { lots: LotRow[]; settings: LowStockSettings[] };

const pairKey = (pair: StockPair) => `${pair.productId}\u0000${pair.warehouseId}`;

/** Runs a FOR UPDATE statement and records how long it took, mostly waiting for row locks, in the lock-wait histogram. */
async function timedLock<T extends object>(tx: Transaction, text: string, values: unknown[]): Promise<T[]> {
  const started = process.hrtime.bigint();
  try {
    return await queryRows<T>(tx, text, values);
  } finally {
    lockWait.observe(Number(process.hrtime.bigint() - started) / 1e9);
  }
}

/** The ids of the lots at the places, found without locking (a lot received between this look-up and the lock is not part of the change). */
async function lotIdsAt(tx: Transaction, places: readonly StockPair[]): Promise<string[]> {
  const wanted = new Set(places.map(pairKey));
  const lots = await findLotsOfProducts(tx, [...new Set(places.map((place) => place.productId))]);
  return lots.filter((lot) => wanted.has(pairKey(lot))).map((lot) => lot.id);
}

/** The statement selecting the lots' `columns`, in id order (null when it selects none). */
async function lotsQuery(tx: Transaction, selection: LotSelection, columns = lotColumns): Promise<Sql | null> {
  const unique = (ids: readonly string[] | undefined) => [...new Set(ids ?? [])];
  const serving = unique(selection.servingProducts);
  const reserving = unique(selection.reservingProducts);
  const products = unique(selection.products);
  const lotIds = unique([...(selection.lotIds ?? []), ...(selection.places?.length ? await lotIdsAt(tx, selection.places) : [])]);
  const conditions: Sql[] = [];
  if (serving.length > 0) conditions.push(sql`(i.product_id = any(${serving}::text[]) and ${raw(warehouseServesSql)})`);
  if (reserving.length > 0) {
    // a lookup in the tiny partial index of discontinued products, inside the lock statement
    conditions.push(sql`(i.product_id = any(${reserving}::text[]) and ${raw(warehouseServesSql)}
                         and not exists (select 1 from products p where p.id = i.product_id and ${raw(productRefusesReservationsSql)}))`);
  }
  if (products.length > 0) conditions.push(sql`i.product_id = any(${products}::text[])`);
  if (lotIds.length > 0) conditions.push(sql`i.id = any(${lotIds}::uuid[])`);
  if (conditions.length === 0) return null;
  return sql`select ${raw(columns)}
       from inventory_items i join warehouses w on w.id = i.warehouse_id
      where ${join(conditions, ' or ')}
      order by i.id`;
}

/** Locks the selected lots in id order, in one statement. */
async function lockLots(tx: Transaction, selection: LotSelection): Promise<LotRow[]> {
  const query = await lotsQuery(tx, selection);
  if (query === null) return [];
  const { text, values } = toQuery(sql`${query}
        for update of i`);
  return timedLock<LotRow>(tx, text, values);
}

/**
 * Locks the selected lots after the caller read them with peekLots, and returns them as they stand
 * now: the rows read, when the lock finds the same lots at the same versions — every change of a
 * lot moves its version (movementsWrite, and migration 0022's trigger when a product's tracking
 * passes to its lots), so they are unchanged — or else every lot read again under the lock. The
 * lock statement then returns two columns a lot rather than all of a lot's and its warehouse's
 * facts, which on a batch of spread load is over a thousand rows. A warehouse's facts are read,
 * not locked, either way.
 */
async function lockPeekedLots(tx: Transaction, selection: LotSelection, peeked: readonly LotRow[]): Promise<LotRow[]> {
  const query = await lotsQuery(tx, selection, 'i.id, i.version');
  if (query === null) return [];
  const { text, values } = toQuery(sql`${query}
        for update of i`);
  const locked = await timedLock<Pick<LotRow, 'id' | 'version'>>(tx, text, values);
  const unchanged = locked.length === peeked.length && locked.every((lot, index) => lot.id === peeked[index]!.id && lot.version === peeked[index]!.version);
  return unchanged ? [...peeked] : lockLots(tx, selection);
}

/**
 * The lots lockFor would lock for the selection, as they stand now, read without locking them: what
 * a use case may plan against before it locks, keeping the plan only if lockFor then returns the
 * same lots.
 */
export async function peekLots(tx: Transaction, selection: LotSelection): Promise<LotRow[]> {
  const query = await lotsQuery(tx, selection);
  if (query === null) return [];
  const { text, values } = toQuery(query);
  return queryRows<LotRow>(tx, text, values);
}

/** Locks the stock settings of the pairs that have them, in (product, warehouse) order. */
async function lockSettings(tx: Transaction, pairs: readonly StockPair[]): Promise<LowStockSettings[]> {
  if (pairs.length === 0) return [];
  return timedLock<LowStockSettings>(
    tx,
    `select s.product_id as "productId", s.warehouse_id as "warehouseId", s.reorder_point as "reorderPoint",
            s.min_stock_level as "minStockLevel",
            json_build_object('low', s.low_stock_alerted, 'critical', s.critical_stock_alerted) as alerts
       from stock_settings s
       join unnest($1::text[], $2::text[]) as p(product_id, warehouse_id)
         on p.product_id = s.product_id and p.warehouse_id = s.warehouse_id
      order by s.product_id, s.warehouse_id
        for update of s`,
    [pairs.map((pair) => pair.productId), pairs.map((pair) => pair.warehouseId)],
  );
}

/**
 * Takes every lot and stock-setting lock a change of stock needs, in the order above: the selected
 * lots, then the settings of their pairs and of `settingsOf` (pairs that may gain their first lot).
 * `peeked`, what peekLots read of the same selection in this transaction, spares the lock statement
 * reading the lots again when none changed since (lockPeekedLots).
 */
export async function lockFor(
  tx: Transaction,
  selection: LotSelection & { settingsOf?: readonly StockPair[] },
  peeked?: readonly LotRow[],
): Promise<StockLocks> {
  const lots = peeked === undefined ? await lockLots(tx, selection) : await lockPeekedLots(tx, selection, peeked);
  const pairs = new Map<string, StockPair>();
  for (const pair of [...lots, ...(selection.places ?? []), ...(selection.settingsOf ?? [])]) {
    pairs.set(pairKey(pair), { productId: pair.productId, warehouseId: pair.warehouseId });
  }
  const settings = await lockSettings(tx, [...pairs.values()]);
  return { lots, settings };
}
