import { v7 as uuidv7 } from 'uuid';
import { assertKnownReferences } from '../../catalogue/catalogue';
import type { Queryable, Transaction } from '../../db/client';
import { lockFor } from '../../db/locks';
import { commitWrites } from '../../db/writes';
import { insertEmptyLots, type LotRow } from '../../db/lot-store';
import {
  findTransfer,
  findTransferLines,
  insertTransfer,
  insertTransferLines,
  lockTransfer,
  markTransferReceived,
  type TransferLineRow,
  type TransferRow,
} from '../../db/transfer-store';
import { isExpired } from '../../domain/expiry';
import { takeOldestFirst } from '../../domain/removal';
import { AppError, notFound } from '../../errors';
import { outboxRows } from '../../events/outbox';
import type { TransferBody, TransferView } from '../../schemas/inventory';
import { productLinesOf } from '../../domain/stock-lines';
import { replenishedProducts } from '../stock/replenishment';
import { stockChangeWrites } from '../stock-changes';

/** What receiving a transfer did: the answer for the caller, and the products whose stock grew. */
export type ReceiveOutcome = { answer: TransferView; replenishedProductIds: string[] };

function toTransferView(transfer: TransferRow, lines: readonly TransferLineRow[]): TransferView {
  const items = new Map<string, number>();
  for (const line of lines) items.set(line.productId, (items.get(line.productId) ?? 0) + line.quantity);
  return {
    transferId: transfer.id,
    status: transfer.status,
    fromWarehouseId: transfer.fromWarehouseId,
    toWarehouseId: transfer.toWarehouseId,
    reference: transfer.reference,
    initiatedBy: transfer.actor,
    initiatedAt: transfer.createdAt,
    receivedAt: transfer.receivedAt,
    totalQuantity: lines.reduce((sum, line) => sum + line.quantity, 0),
    items: [...items].map(([productId, quantity]) => ({ productId, quantity })),
    lines: lines.map((line) => ({
      lineId: line.id,
      productId: line.productId,
      quantity: line.quantity,
      sourceLotId: line.sourceLotId,
      destinationLotId: line.destinationLotId,
      lotNumber: line.lotNumber,
      unitCost: line.unitCost,
      receivedAt: line.receivedAt,
      expiresAt: line.expiresAt,
    })),
  };
}

type Take = { lot: LotRow; quantity: number };

/**
 * Which source lots give each item: the named lot, or the oldest unexpired lots of the product at the
 * source. Only available units move; reserved and allocated ones stay. All items or a refusal.
 */
function planTransfer(body: TransferBody, lots: readonly LotRow[], now: Date): Take[] {
  const working = new Map(lots.map((lot) => [lot.id, { ...lot, key: lot.id }]));
  const takes = new Map<string, Take>();
  const unknownLots: { item: number; lotId: string; productId: string }[] = [];
  const shortages: { item: number; productId: string; lotId?: string; requested: number; available: number }[] = [];

  body.items.forEach((item, index) => {
    let candidates;
    if (item.lotId !== undefined) {
      const lot = working.get(item.lotId);
      if (lot === undefined || lot.productId !== item.productId || lot.warehouseId !== body.fromWarehouseId) {
        unknownLots.push({ item: index, lotId: item.lotId, productId: item.productId });
        return;
      }
      candidates = [lot];
    } else {
      candidates = [...working.values()].filter((lot) => lot.productId === item.productId && lot.warehouseId === body.fromWarehouseId && !isExpired(lot, now));
    }
    const removals = takeOldestFirst(candidates, item.quantity);
    const taken = removals.reduce((sum, removal) => sum + removal.quantity, 0);
    if (taken < item.quantity) {
      shortages.push({
        item: index,
        productId: item.productId,
        ...(item.lotId === undefined ? {} : { lotId: item.lotId }),
        requested: item.quantity,
        available: taken,
      });
      return;
    }
    for (const removal of removals) {
      const lot = working.get(removal.lotKey)!;
      lot.quantity -= removal.quantity;
      const take = takes.get(lot.id) ?? { lot, quantity: 0 };
      take.quantity += removal.quantity;
      takes.set(lot.id, take);
    }
  });

  if (unknownLots.length > 0) {
    throw new AppError('UNKNOWN_REFERENCE', 'The request names lots that are not lots of the product of their item at the source warehouse', { unknownLots });
  }
  if (shortages.length > 0) {
    throw new AppError('INSUFFICIENT_STOCK', 'Not enough available stock at the source warehouse for every item; nothing was changed', { shortages });
  }
  return [...takes.values()];
}

/**
 * Sends stock from one warehouse to another: it leaves the source at once (TRANSFER_OUT) and travels
 * as one line per source lot, keeping the lot's number, age, expiry and cost, until it is received.
 * Records TransferInitiated.
 */
export async function initiateTransfer(tx: Transaction, body: TransferBody, actor: string, now = new Date()): Promise<TransferView> {
  const productIds = [...new Set(body.items.map((item) => item.productId))];
  await assertKnownReferences(tx, { productIds, warehouseIds: [body.fromWarehouseId, body.toWarehouseId] });
  const namedLots = body.items.flatMap((item) => (item.lotId === undefined ? [] : [item.lotId]));
  const locks = await lockFor(tx, { places: productIds.map((productId) => ({ productId, warehouseId: body.fromWarehouseId })), lotIds: namedLots });
  const takes = planTransfer(body, locks.lots, now);

  const transfer = await insertTransfer(tx, {
    id: uuidv7(),
    fromWarehouseId: body.fromWarehouseId,
    toWarehouseId: body.toWarehouseId,
    reference: body.reference ?? null,
    actor,
  });
  const lines: TransferLineRow[] = takes.map(({ lot, quantity }) => ({
    id: uuidv7(),
    transferId: transfer.id,
    productId: lot.productId,
    sourceLotId: lot.id,
    destinationLotId: null,
    quantity,
    lotNumber: lot.lotNumber,
    unitCost: lot.unitCost,
    receivedAt: lot.receivedAt,
    expiresAt: lot.expiresAt,
  }));
  await insertTransferLines(tx, lines);
  const movements = lines.map((line) => ({
    lotId: line.sourceLotId,
    type: 'TRANSFER_OUT' as const,
    quantityDelta: -line.quantity,
    reason: `transfer to ${body.toWarehouseId}`,
    referenceType: 'transfer',
    referenceId: transfer.id,
    actor,
  }));
  const initiated = {
    type: 'TransferInitiated' as const,
    transferId: transfer.id,
    fromWarehouseId: transfer.fromWarehouseId,
    toWarehouseId: transfer.toWarehouseId,
    items: productLinesOf(lines),
    reference: transfer.reference,
    initiatedBy: actor,
    timestamp: now,
  };
  await commitWrites(tx, await stockChangeWrites(tx, locks, movements, { now }), { outbox: outboxRows([initiated], now) });
  return toTransferView(transfer, lines);
}

/**
 * Receives a transfer in transit: each line arrives at the destination as a new lot with the number,
 * age (received at), expiry and cost it left with (TRANSFER_IN). A transfer is received once.
 * Records TransferReceived.
 */
export async function receiveTransfer(tx: Transaction, transferId: string, actor: string, now = new Date()): Promise<ReceiveOutcome> {
  const transfer = await lockTransfer(tx, transferId);
  if (!transfer) throw notFound('Transfer', transferId);
  if (transfer.status !== 'IN_TRANSIT') {
    throw new AppError('INVALID_TRANSITION', `Transfer ${transferId} is ${transfer.status}; only an IN_TRANSIT transfer can be received`, {
      status: transfer.status,
    });
  }
  const lines = await findTransferLines(tx, transferId);
  const arrivals = lines.map((line) => ({
    productId: line.productId,
    warehouseId: transfer.toWarehouseId,
    lotNumber: line.lotNumber,
    receivedAt: line.receivedAt,
    expiresAt: line.expiresAt,
    unitCost: line.unitCost,
  }));
  // the new lots are this transaction's own; the destination's stock settings are locked for the low-stock rule
  const locks = await lockFor(tx, { settingsOf: arrivals });
  const lotIds = await insertEmptyLots(tx, arrivals);
  const movements = lines.map((line, index) => ({
    lotId: lotIds[index]!,
    type: 'TRANSFER_IN' as const,
    quantityDelta: line.quantity,
    reason: `transfer from ${transfer.fromWarehouseId}`,
    referenceType: 'transfer',
    referenceId: transferId,
    actor,
  }));
  const created = arrivals.map((arrival, index) => ({ id: lotIds[index]!, ...arrival }));
  const received = await markTransferReceived(
    tx,
    transferId,
    lines.map((line, index) => ({ lineId: line.id, destinationLotId: lotIds[index]! })),
  );
  const arrived = {
    type: 'TransferReceived' as const,
    transferId,
    fromWarehouseId: transfer.fromWarehouseId,
    toWarehouseId: transfer.toWarehouseId,
    items: productLinesOf(lines),
    reference: transfer.reference,
    receivedBy: actor,
    timestamp: now,
  };
  const written = await commitWrites(tx, await stockChangeWrites(tx, locks, movements, { now, created }), { outbox: outboxRows([arrived], now) });
  return {
    answer: toTransferView(
      received,
      lines.map((line, index) => ({ ...line, destinationLotId: lotIds[index]! })),
    ),
    replenishedProductIds: replenishedProducts(written),
  };
}

/** A transfer with its lines; 404 when there is none. */
export async function getTransfer(db: Queryable, transferId: string): Promise<TransferView> {
  const transfer = await findTransfer(db, transferId);
  if (!transfer) throw notFound('Transfer', transferId);
  return toTransferView(transfer, await findTransferLines(db, transferId));
}
