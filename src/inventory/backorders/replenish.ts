/** Replenishments that fill waiting backorders in the same transaction as the stock arrives. */
import type { Transaction } from '../../db/client';
import { lockFor } from '../../db/locks';
import { findTransferLines } from '../../db/transfer-store';
import type { AdjustBody } from '../../schemas/inventory';
import { adjustStock, type AdjustOutcome } from '../stock/adjust';
import type { BackorderFill } from '../../domain/backorder';
import { fillBackorders } from './backorders';
import { receiveTransfer, type ReceiveOutcome } from '../transfers/transfer';

/** An adjustment whose receipts, returns and positive corrections then fill waiting backorders. */
export async function adjustStockFillingBackorders(
  tx: Transaction,
  body: AdjustBody,
  actor: string,
  now = new Date(),
): Promise<AdjustOutcome & { fills: BackorderFill[] }> {
  // An adjustment locks only the lots at its warehouses; a fill then locking the product's other
  // lots would take locks out of id order and could deadlock with a reservation. So every lot of the
  // adjusted products is locked first, in one statement: a backorder may appear while the
  // adjustment waits for its lots, so checking for backorders beforehand would not be enough.
  await lockFor(tx, { products: body.adjustments.map((line) => line.productId) });
  const outcome = await adjustStock(tx, body, actor, now);
  return { ...outcome, fills: await fillBackorders(tx, outcome.replenishedProductIds, now, actor) };
}

/**
 * A transfer arrival that then fills waiting backorders. Every lot of the transfer's products is
 * locked first: the arrival takes the low-stock lock of its products at the destination, and a
 * fill taking lot locks after that could deadlock with a reservation of the same products.
 */
export async function receiveTransferFillingBackorders(
  tx: Transaction,
  transferId: string,
  actor: string,
  now = new Date(),
): Promise<ReceiveOutcome & { fills: BackorderFill[] }> {
  await lockFor(tx, { products: (await findTransferLines(tx, transferId)).map((line) => line.productId) });
  const outcome = await receiveTransfer(tx, transferId, actor, now);
  return { ...outcome, fills: await fillBackorders(tx, outcome.replenishedProductIds, now, actor) };
}
