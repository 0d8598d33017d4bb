import { queryRow, queryRows, type Queryable, type Transaction } from './client';

export type TransferStatus = 'IN_TRANSIT' | 'RECEIVED';

/** A transfer between two warehouses, as stored. */
export type TransferRow = {
  id: string;
  fromWarehouseId: string;
  toWarehouseId: string;
  status: TransferStatus;
  reference: string | null;
  actor: string;
  createdAt: Date;
  receivedAt: Date | null;
};

/** Units of one source lot in transit; they arrive as a lot with the same number, age, expiry and cost. */
export type TransferLineRow = {
  id: string;
  transferId: string;
  productId: string;
  sourceLotId: string;
  destinationLotId: string | null;
  quantity: number;
  lotNumber: string | null;
  unitCost: number | null;
  receivedAt: Date;
  expiresAt: Date | null;
};

const transferColumns = `id, from_warehouse_id as "fromWarehouseId", to_warehouse_id as "toWarehouseId", status, reference,
  actor, created_at as "createdAt", received_at as "receivedAt"`;
const lineColumns = `id, transfer_id as "transferId", product_id as "productId", source_lot_id as "sourceLotId",
  destination_lot_id as "destinationLotId", quantity, lot_number as "lotNumber", unit_cost::float8 as "unitCost",
  received_at as "receivedAt", expires_at as "expiresAt"`;

/** Records a transfer in transit. */
export async function insertTransfer(
  tx: Transaction,
  transfer: Pick<TransferRow, 'id' | 'fromWarehouseId' | 'toWarehouseId' | 'reference' | 'actor'>,
): Promise<TransferRow> {
  const row = await queryRow<TransferRow>(
    tx,
    `insert into transfers (id, from_warehouse_id, to_warehouse_id, status, reference, actor)
     values ($1, $2, $3, 'IN_TRANSIT', $4, $5)
     returning ${transferColumns}`,
    [transfer.id, transfer.fromWarehouseId, transfer.toWarehouseId, transfer.reference, transfer.actor],
  );
  return row!;
}

/** Records the lines of a transfer, in one statement. */
export async function insertTransferLines(tx: Transaction, lines: readonly Omit<TransferLineRow, 'destinationLotId'>[]): Promise<void> {
  await tx.query(
    `insert into transfer_lines (id, transfer_id, product_id, source_lot_id, quantity, lot_number, unit_cost, received_at, expires_at)
     select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::int[], $6::text[], $7::numeric[], $8::timestamptz[], $9::timestamptz[])`,
    [
      lines.map((line) => line.id),
      lines.map((line) => line.transferId),
      lines.map((line) => line.productId),
      lines.map((line) => line.sourceLotId),
      lines.map((line) => line.quantity),
      lines.map((line) => line.lotNumber),
      lines.map((line) => line.unitCost),
      lines.map((line) => line.receivedAt),
      lines.map((line) => line.expiresAt),
    ],
  );
}

export async function findTransfer(db: Queryable, id: string): Promise<TransferRow | undefined> {
  return queryRow<TransferRow>(db, `select ${transferColumns} from transfers where id = $1`, [id]);
}

/** Locks a transfer so that only one caller can receive it. */
export async function lockTransfer(tx: Transaction, id: string): Promise<TransferRow | undefined> {
  return queryRow<TransferRow>(tx, `select ${transferColumns} from transfers where id = $1 for update`, [id]);
}

/** The lines of a transfer in the order they were written. */
export async function findTransferLines(db: Queryable, transferId: string): Promise<TransferLineRow[]> {
  return queryRows<TransferLineRow>(db, `select ${lineColumns} from transfer_lines where transfer_id = $1 order by id`, [transferId]);
}

/** Marks a transfer received and links each line to the lot it arrived as. */
export async function markTransferReceived(
  tx: Transaction,
  id: string,
  arrivals: readonly { lineId: string; destinationLotId: string }[],
): Promise<TransferRow> {
  await tx.query(
    `update transfer_lines l set destination_lot_id = a.lot_id
       from unnest($1::uuid[], $2::uuid[]) as a(line_id, lot_id)
      where l.id = a.line_id`,
    [arrivals.map((arrival) => arrival.lineId), arrivals.map((arrival) => arrival.destinationLotId)],
  );
  const row = await queryRow<TransferRow>(tx, `update transfers set status = 'RECEIVED', received_at = now() where id = $1 returning ${transferColumns}`, [id]);
  return row!;
}
