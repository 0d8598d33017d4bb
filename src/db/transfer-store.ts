import type { TransferStatus } from '../domain/transfer';
import { queryRow, queryRows, type Queryable, type Transaction } from './client';
import { isOneOf, raw, sql, toQuery, whereAll, type Sql } from './sql';

/** A transfer between two warehouses, as stored. */
export type TransferRow = {
  id: string;
  fromWarehouseId: string;
  toWarehouseId: string;
  status: TransferStatus;
  reference: string | null;
  reason: string | null;
  expectedDelivery: Date | null;
  actor: string;
  createdAt: Date;
  receivedAt: Date | null;
  cancelledAt: Date | null;
  cancelReason: string | null;
  updatedAt: Date;
};

/** One product of a transfer: its quantity and the stock at both ends when it was sent (null for transfers sent before these were kept). */
export type TransferItemRow = {
  transferId: string;
  productId: string;
  quantity: number;
  sourceQuantityBefore: number | null;
  sourceQuantityAfter: number | null;
  destinationQuantityExpected: number | null;
};

/** Units of one source lot on their way; they arrive as a lot with the same number, age, expiry and cost. */
export type TransferLineRow = {
  id: string;
  transferId: string;
  productId: string;
  sourceLotId: string;
  destinationLotId: string | null;
  quantity: number;
  receivedQuantity: number;
  shortQuantity: number;
  returnedQuantity: number;
  lotNumber: string | null;
  unitCost: number | null;
  receivedAt: Date;
  expiresAt: Date | null;
};

const transferColumns = `t.id, t.from_warehouse_id as "fromWarehouseId", t.to_warehouse_id as "toWarehouseId", t.status, t.reference, t.reason,
  t.expected_delivery as "expectedDelivery", t.actor, t.created_at as "createdAt", t.received_at as "receivedAt",
  t.cancelled_at as "cancelledAt", t.cancel_reason as "cancelReason", t.updated_at as "updatedAt"`;
const itemColumns = `transfer_id as "transferId", product_id as "productId", quantity, source_quantity_before as "sourceQuantityBefore",
  source_quantity_after as "sourceQuantityAfter", destination_quantity_expected as "destinationQuantityExpected"`;
const lineColumns = `id, transfer_id as "transferId", product_id as "productId", source_lot_id as "sourceLotId",
  destination_lot_id as "destinationLotId", quantity, received_quantity as "receivedQuantity", short_quantity as "shortQuantity",
  returned_quantity as "returnedQuantity", lot_number as "lotNumber", unit_cost::float8 as "unitCost",
  received_at as "receivedAt", expires_at as "expiresAt"`;

/**
 * SQL mirror of `isTransferOverdue` (src/domain/transfer.ts): a transfer of alias `t` with units on
 * their way at or after its expected delivery, at `now`.
 */
export function overdueTransferSql(now: Date): Sql {
  return sql`(t.status in ('IN_TRANSIT', 'PARTIALLY_RECEIVED') and t.expected_delivery <= ${now}::timestamptz)`;
}

/** Records a transfer in transit with its products and its lines, in one statement. */
export async function insertTransfer(
  tx: Transaction,
  transfer: Pick<TransferRow, 'id' | 'fromWarehouseId' | 'toWarehouseId' | 'reference' | 'reason' | 'expectedDelivery' | 'actor' | 'createdAt'>,
  items: readonly TransferItemRow[],
  lines: readonly Omit<TransferLineRow, 'destinationLotId' | 'receivedQuantity' | 'shortQuantity' | 'returnedQuantity'>[],
): Promise<TransferRow> {
  const { text, values } = toQuery(sql`with transfer as (
       insert into transfers as t (id, from_warehouse_id, to_warehouse_id, status, reference, reason, expected_delivery, actor, created_at, updated_at)
       values (${transfer.id}::uuid, ${transfer.fromWarehouseId}, ${transfer.toWarehouseId}, 'IN_TRANSIT', ${transfer.reference}, ${transfer.reason},
               ${transfer.expectedDelivery}::timestamptz, ${transfer.actor}, ${transfer.createdAt}::timestamptz, ${transfer.createdAt}::timestamptz)
       returning ${raw(transferColumns)}
     ), items as (
       insert into transfer_items (transfer_id, product_id, quantity, source_quantity_before, source_quantity_after, destination_quantity_expected)
       select * from unnest(${items.map((item) => item.transferId)}::uuid[], ${items.map((item) => item.productId)}::text[],
                            ${items.map((item) => item.quantity)}::int[], ${items.map((item) => item.sourceQuantityBefore)}::int[],
                            ${items.map((item) => item.sourceQuantityAfter)}::int[], ${items.map((item) => item.destinationQuantityExpected)}::int[])
     ), lines as (
       insert into transfer_lines (id, transfer_id, product_id, source_lot_id, quantity, lot_number, unit_cost, received_at, expires_at)
       select * from unnest(${lines.map((line) => line.id)}::uuid[], ${lines.map((line) => line.transferId)}::uuid[],
                            ${lines.map((line) => line.productId)}::text[], ${lines.map((line) => line.sourceLotId)}::uuid[],
                            ${lines.map((line) => line.quantity)}::int[], ${lines.map((line) => line.lotNumber)}::text[],
                            ${lines.map((line) => line.unitCost)}::numeric[], ${lines.map((line) => line.receivedAt)}::timestamptz[],
                            ${lines.map((line) => line.expiresAt)}::timestamptz[])
     )
     select * from transfer`);
  return (await queryRow<TransferRow>(tx, text, values))!;
}

export async function findTransfer(db: Queryable, id: string): Promise<TransferRow | undefined> {
  return queryRow<TransferRow>(db, `select ${transferColumns} from transfers t where t.id = $1`, [id]);
}

/** Locks a transfer so that its receipts and its cancel take turns; the first lock of any change of a transfer. */
export async function lockTransfer(tx: Transaction, id: string): Promise<TransferRow | undefined> {
  return queryRow<TransferRow>(tx, `select ${transferColumns} from transfers t where t.id = $1 for update`, [id]);
}

/** The products of the transfers, each transfer's in product order. */
export async function findTransferItems(db: Queryable, transferIds: readonly string[]): Promise<TransferItemRow[]> {
  if (transferIds.length === 0) return [];
  return queryRows<TransferItemRow>(db, `select ${itemColumns} from transfer_items where transfer_id = any($1::uuid[]) order by transfer_id, product_id`, [
    transferIds,
  ]);
}

/** The lines of the transfers, each transfer's in the order they were written. */
export async function findTransferLines(db: Queryable, transferIds: readonly string[]): Promise<TransferLineRow[]> {
  if (transferIds.length === 0) return [];
  return queryRows<TransferLineRow>(db, `select ${lineColumns} from transfer_lines where transfer_id = any($1::uuid[]) order by transfer_id, id`, [
    transferIds,
  ]);
}

/** What a receipt or a cancel does to a line: units added to its parts, and the lot it arrives in. */
export type TransferLineChange = { id: string; received?: number; short?: number; returned?: number; destinationLotId?: string };

/** What a receipt or a cancel does to a transfer. */
export type TransferChange = { status: TransferStatus; receivedAt?: Date; cancelledAt?: Date; cancelReason?: string | null; at: Date };

/** Applies line changes and the transfer's new status in one statement; a change that breaks the lines' CHECK fails it. */
export async function updateTransfer(tx: Transaction, id: string, change: TransferChange, lines: readonly TransferLineChange[]): Promise<TransferRow> {
  const { text, values } = toQuery(sql`with lines as (
       update transfer_lines l
          set received_quantity = l.received_quantity + d.received,
              short_quantity = l.short_quantity + d.short,
              returned_quantity = l.returned_quantity + d.returned,
              destination_lot_id = coalesce(d.destination_lot_id, l.destination_lot_id)
         from unnest(${lines.map((line) => line.id)}::uuid[], ${lines.map((line) => line.received ?? 0)}::int[],
                     ${lines.map((line) => line.short ?? 0)}::int[], ${lines.map((line) => line.returned ?? 0)}::int[],
                     ${lines.map((line) => line.destinationLotId ?? null)}::uuid[]) as d(id, received, short, returned, destination_lot_id)
        where l.id = d.id and l.transfer_id = ${id}::uuid
     )
     update transfers t
        set status = ${change.status}, received_at = coalesce(${change.receivedAt ?? null}::timestamptz, t.received_at),
            cancelled_at = coalesce(${change.cancelledAt ?? null}::timestamptz, t.cancelled_at),
            cancel_reason = coalesce(${change.cancelReason ?? null}::text, t.cancel_reason), updated_at = ${change.at}::timestamptz
      where t.id = ${id}::uuid
      returning ${raw(transferColumns)}`);
  return (await queryRow<TransferRow>(tx, text, values))!;
}

/** Which transfers a lookup returns: every field given narrows it. `after` continues a listing after that transfer. */
export type TransferFilter = {
  statuses?: readonly TransferStatus[];
  fromWarehouseId?: string;
  toWarehouseId?: string;
  /** either end */
  warehouseId?: string;
  productId?: string;
  /** overdue (or not) at this moment */
  overdue?: { is: boolean; at: Date };
  createdFrom?: Date;
  createdTo?: Date;
  after?: string;
  limit: number;
};

/**
 * Transfers newest first (by creation, then id), without locking them. Only the filters given
 * become conditions, each served by an index: status and either end by indexes ending in
 * (created_at, id), a product through transfer_items (product_id, transfer_id), overdue through
 * (expected_delivery), creation time by (created_at, id).
 */
export async function searchTransfers(db: Queryable, filter: TransferFilter): Promise<TransferRow[]> {
  const conditions: Sql[] = [];
  if (filter.statuses !== undefined) conditions.push(sql`t.status ${isOneOf(filter.statuses)}`);
  if (filter.fromWarehouseId !== undefined) conditions.push(sql`t.from_warehouse_id = ${filter.fromWarehouseId}`);
  if (filter.toWarehouseId !== undefined) conditions.push(sql`t.to_warehouse_id = ${filter.toWarehouseId}`);
  if (filter.warehouseId !== undefined) conditions.push(sql`(t.from_warehouse_id = ${filter.warehouseId} or t.to_warehouse_id = ${filter.warehouseId})`);
  if (filter.productId !== undefined) {
    conditions.push(sql`exists (select 1 from transfer_items i where i.product_id = ${filter.productId} and i.transfer_id = t.id)`);
  }
  if (filter.overdue !== undefined) {
    conditions.push(filter.overdue.is ? overdueTransferSql(filter.overdue.at) : sql`not coalesce(${overdueTransferSql(filter.overdue.at)}, false)`);
  }
  if (filter.createdFrom !== undefined) conditions.push(sql`t.created_at >= ${filter.createdFrom}`);
  if (filter.createdTo !== undefined) conditions.push(sql`t.created_at < ${filter.createdTo}`);
  if (filter.after !== undefined) {
    conditions.push(sql`(t.created_at, t.id) < (select c.created_at, c.id from transfers c where c.id = ${filter.after}::uuid)`);
  }
  const { text, values } = toQuery(sql`select ${raw(transferColumns)} from transfers t
      ${whereAll(conditions)}
      order by t.created_at desc, t.id desc
      limit ${filter.limit}`);
  return queryRows<TransferRow>(db, text, values);
}
