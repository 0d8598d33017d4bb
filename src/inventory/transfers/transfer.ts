/** Transfers between warehouses: sent at once, received whole or in part (shortages written off), cancelled while on their way, found. */
import { newId } from '../../ids';
import { assertKnownReferences } from '../../catalogue/catalogue';
import type { Queryable, Transaction } from '../../db/client';
import { lockFor } from '../../db/locks';
import { findTracking } from '../../db/catalogue-store';
import { findLotsOfProducts, insertEmptyLots, type LotRow } from '../../db/lot-store';
import {
  findTransfer,
  findTransferItems,
  findTransferLines,
  insertTransfer,
  lockTransfer,
  searchTransfers,
  updateTransfer,
  type TransferItemRow,
  type TransferLineChange,
  type TransferLineRow,
  type TransferRow,
} from '../../db/transfer-store';
import { commitWrites, commitWritesReadingLedger } from '../../db/writes';
import { isExpired } from '../../domain/expiry';
import type { LotMovement } from '../../domain/movement';
import { takeOldestFirst } from '../../domain/removal';
import { productLinesOf } from '../../domain/stock-lines';
import { inTransitOf, isTransferOverdue, openTransferStatuses, planReceipt, type TransferLineProgress } from '../../domain/transfer';
import { AppError, notFound } from '../../errors';
import { outboxRows } from '../../events/outbox';
import type { CancelTransferBody, ListTransfersQuery, ReceiveTransferBody, TransferBody, TransferPage, TransferView } from '../../schemas/transfers';
import { replenishedProducts } from '../stock/replenishment';
import { stockChangeWrites } from '../stock-changes';

/** What receiving or cancelling a transfer did: the answer for the caller, and the products whose stock grew. */
export type TransferOutcome = { answer: TransferView; replenishedProductIds: string[] };

const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

/** How the units of some lines stand: arrived, short, back at the source, on their way. */
function progressOf(lines: readonly TransferLineProgress[]) {
  return {
    receivedQuantity: sum(lines.map((line) => line.receivedQuantity)),
    shortQuantity: sum(lines.map((line) => line.shortQuantity)),
    returnedQuantity: sum(lines.map((line) => line.returnedQuantity)),
    inTransitQuantity: sum(lines.map(inTransitOf)),
  };
}

/** A transfer as the API shows it at `now`: seed 002's items per product, and every line. */
function toTransferView(transfer: TransferRow, items: readonly TransferItemRow[], lines: readonly TransferLineRow[], now: Date): TransferView {
  return {
    transferId: transfer.id,
    status: transfer.status,
    fromWarehouseId: transfer.fromWarehouseId,
    toWarehouseId: transfer.toWarehouseId,
    reference: transfer.reference,
    reason: transfer.reason,
    initiatedBy: transfer.actor,
    initiatedAt: transfer.createdAt,
    expectedDelivery: transfer.expectedDelivery,
    overdue: isTransferOverdue(transfer, now),
    receivedAt: transfer.receivedAt,
    cancelledAt: transfer.cancelledAt,
    cancelReason: transfer.cancelReason,
    updatedAt: transfer.updatedAt,
    totalQuantity: sum(lines.map((line) => line.quantity)),
    ...progressOf(lines),
    items: items.map((item) => ({
      productId: item.productId,
      quantity: item.quantity,
      fromWarehouse: { id: transfer.fromWarehouseId, previousQuantity: item.sourceQuantityBefore, newQuantity: item.sourceQuantityAfter },
      toWarehouse: { id: transfer.toWarehouseId, expectedQuantity: item.destinationQuantityExpected },
      ...progressOf(lines.filter((line) => line.productId === item.productId)),
    })),
    lines: lines.map((line) => ({
      lineId: line.id,
      productId: line.productId,
      quantity: line.quantity,
      receivedQuantity: line.receivedQuantity,
      shortQuantity: line.shortQuantity,
      returnedQuantity: line.returnedQuantity,
      inTransitQuantity: inTransitOf(line),
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
    const taken = removals.reduce((total, removal) => total + removal.quantity, 0);
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

/** On hand per product of the lots, those at `warehouseId` only. */
function onHandAt(lots: readonly LotRow[], warehouseId: string): Map<string, number> {
  const onHand = new Map<string, number>();
  for (const lot of lots) if (lot.warehouseId === warehouseId) onHand.set(lot.productId, (onHand.get(lot.productId) ?? 0) + lot.quantity);
  return onHand;
}

/**
 * Sends stock from one warehouse to another: it leaves the source at once (TRANSFER_OUT) and travels
 * as one line per source lot, keeping the lot's number, age, expiry and cost, until it is received.
 * Keeps, per product, the stock on hand at the source before and after and what the destination will
 * hold once it arrives (seed 002's fromWarehouse / toWarehouse). Records TransferInitiated.
 */
export async function initiateTransfer(tx: Transaction, body: TransferBody, actor: string, now = new Date()): Promise<TransferView> {
  const productIds = [...new Set(body.items.map((item) => item.productId))];
  await assertKnownReferences(tx, { productIds, warehouseIds: [body.fromWarehouseId, body.toWarehouseId] });
  const serialTracked = [...(await findTracking(tx, productIds))].filter(([, tracking]) => tracking === 'serial').map(([productId]) => productId);
  if (serialTracked.length > 0) {
    throw new AppError('CONFLICT', 'Serial-tracked products are not moved between warehouses by transfer', { serialTrackedProducts: serialTracked });
  }
  const namedLots = body.items.flatMap((item) => (item.lotId === undefined ? [] : [item.lotId]));
  const locks = await lockFor(tx, { places: productIds.map((productId) => ({ productId, warehouseId: body.fromWarehouseId })), lotIds: namedLots });
  const takes = planTransfer(body, locks.lots, now);

  const transferId = newId();
  const sourceBefore = onHandAt(locks.lots, body.fromWarehouseId);
  // the destination is not locked: what it will hold is as it stood when the units left
  const destination = onHandAt(await findLotsOfProducts(tx, productIds, body.toWarehouseId), body.toWarehouseId);
  const items = productLinesOf(takes.map(({ lot, quantity }) => ({ productId: lot.productId, quantity }))).map(({ productId, quantity }) => ({
    transferId,
    productId,
    quantity,
    sourceQuantityBefore: sourceBefore.get(productId) ?? 0,
    sourceQuantityAfter: (sourceBefore.get(productId) ?? 0) - quantity,
    destinationQuantityExpected: (destination.get(productId) ?? 0) + quantity,
  }));
  const lines = takes.map(({ lot, quantity }) => ({
    id: newId(),
    transferId,
    productId: lot.productId,
    sourceLotId: lot.id,
    quantity,
    lotNumber: lot.lotNumber,
    unitCost: lot.unitCost,
    receivedAt: lot.receivedAt,
    expiresAt: lot.expiresAt,
  }));
  const { fromWarehouseId, toWarehouseId, reference, reason, expectedDelivery } = body;
  const transfer = await insertTransfer(
    tx,
    { id: transferId, fromWarehouseId, toWarehouseId, reference, reason, expectedDelivery, actor, createdAt: now },
    items,
    lines,
  );
  const movements: LotMovement[] = lines.map((line) => ({
    lotId: line.sourceLotId,
    type: 'TRANSFER_OUT',
    quantityDelta: -line.quantity,
    reason: `transfer to ${body.toWarehouseId}`,
    referenceType: 'transfer',
    referenceId: transferId,
    actor,
  }));
  const initiated = {
    type: 'TransferInitiated' as const,
    transferId,
    fromWarehouseId: transfer.fromWarehouseId,
    toWarehouseId: transfer.toWarehouseId,
    items: productLinesOf(lines),
    reference: transfer.reference,
    reason: transfer.reason,
    expectedDelivery: transfer.expectedDelivery,
    initiatedBy: actor,
    timestamp: now,
  };
  await commitWrites(tx, await stockChangeWrites(tx, locks, movements, { now }), { outbox: outboxRows([initiated], now) });
  const unmoved = { receivedQuantity: 0, shortQuantity: 0, returnedQuantity: 0, destinationLotId: null };
  return toTransferView(
    transfer,
    items,
    lines.map((line) => ({ ...line, ...unmoved })),
    now,
  );
}

/** Locks a transfer that still has units on their way, with its products and lines: 404 when unknown, 409 when it is done. */
async function lockOpenTransfer(tx: Transaction, transferId: string, doing: string) {
  const transfer = await lockTransfer(tx, transferId);
  if (!transfer) throw notFound('Transfer', transferId);
  if (!openTransferStatuses.includes(transfer.status)) {
    throw new AppError('INVALID_TRANSITION', `Transfer ${transferId} is ${transfer.status}; only a transfer with units on their way can be ${doing}`, {
      transferId,
      status: transfer.status,
    });
  }
  return { transfer, items: await findTransferItems(tx, [transferId]), lines: await findTransferLines(tx, [transferId]) };
}

/** The 400 or 409 a refused receipt answers. */
function receiptRefusal(refusal: Extract<ReturnType<typeof planReceipt>, { refusal: unknown }>['refusal']): AppError {
  return refusal.code === 'UNKNOWN_REFERENCE'
    ? new AppError('UNKNOWN_REFERENCE', 'The receipt names products or lines that are not part of the transfer', { unknown: refusal.unknown })
    : new AppError('CONFLICT', 'The receipt names more units than are on their way; nothing was received', { excess: refusal.excess });
}

/**
 * Receives a transfer whole, or in part: units arrive at the destination (TRANSFER_IN), each line in
 * one lot there with the number, age, expiry and cost it left with — a later part joins the line's
 * lot. With `complete`, what has still not arrived is recorded short: it arrives and is written off
 * at once (TRANSFER_SHORTAGE, with the reason), so the ledger shows every unit that left, and the
 * transfer is RECEIVED; else it is PARTIALLY_RECEIVED while units are on their way. Locks the
 * transfer, then every lot of its products (a fill of waiting backorders follows in the same
 * transaction). Records TransferReceived.
 */
export async function receiveTransfer(
  tx: Transaction,
  transferId: string,
  input: ReceiveTransferBody,
  actor: string,
  now = new Date(),
): Promise<TransferOutcome> {
  const { transfer, items, lines } = await lockOpenTransfer(tx, transferId, 'received');
  const plan = planReceipt(lines, input?.items, input?.complete ?? false);
  if ('refusal' in plan) throw receiptRefusal(plan.refusal);

  const byId = new Map(lines.map((line) => [line.id, line]));
  const arriving = plan.receipts.map((receipt) => ({ receipt, line: byId.get(receipt.lineId)! }));
  const destinationOf = (line: TransferLineRow) => ({
    productId: line.productId,
    warehouseId: transfer.toWarehouseId,
    lotNumber: line.lotNumber,
    receivedAt: line.receivedAt,
    expiresAt: line.expiresAt,
    unitCost: line.unitCost,
  });
  const locks = await lockFor(tx, { products: [...new Set(lines.map((line) => line.productId))], settingsOf: arriving.map(({ line }) => destinationOf(line)) });
  const firstArrivals = arriving.filter(({ line }) => line.destinationLotId === null);
  const newLotIds = await insertEmptyLots(
    tx,
    firstArrivals.map(({ line }) => destinationOf(line)),
  );
  // only lot-tracked products travel (initiateTransfer refuses serial-tracked ones)
  const created = firstArrivals.map(({ line }, index) => ({ id: newLotIds[index]!, ...destinationOf(line), tracking: 'lot' as const }));
  const lotOf = new Map(firstArrivals.map(({ line }, index) => [line.id, newLotIds[index]!]));

  const shortReason = `short on arrival${input?.reason === undefined ? '' : `: ${input.reason}`}`;
  const movements: LotMovement[] = [];
  const changes: TransferLineChange[] = [];
  for (const { receipt, line } of arriving) {
    const lotId = line.destinationLotId ?? lotOf.get(line.id)!;
    const common = { lotId, referenceType: 'transfer', referenceId: transferId, actor };
    movements.push({ ...common, type: 'TRANSFER_IN', quantityDelta: receipt.received + receipt.short, reason: `transfer from ${transfer.fromWarehouseId}` });
    if (receipt.short > 0) movements.push({ ...common, type: 'TRANSFER_SHORTAGE', quantityDelta: -receipt.short, reason: shortReason });
    changes.push({ id: line.id, received: receipt.received, short: receipt.short, ...(lotOf.has(line.id) ? { destinationLotId: lotId } : {}) });
  }
  const productOf = (receipt: { lineId: string }) => byId.get(receipt.lineId)!.productId;
  const received = {
    type: 'TransferReceived' as const,
    transferId,
    fromWarehouseId: transfer.fromWarehouseId,
    toWarehouseId: transfer.toWarehouseId,
    reference: transfer.reference,
    status: plan.status === 'RECEIVED' ? ('RECEIVED' as const) : ('PARTIALLY_RECEIVED' as const),
    items: productLinesOf(
      plan.receipts.filter((receipt) => receipt.received > 0).map((receipt) => ({ productId: productOf(receipt), quantity: receipt.received })),
    ),
    shortages: productLinesOf(
      plan.receipts.filter((receipt) => receipt.short > 0).map((receipt) => ({ productId: productOf(receipt), quantity: receipt.short })),
    ),
    reason: plan.receipts.some((receipt) => receipt.short > 0) ? shortReason : null,
    receivedBy: actor,
    timestamp: now,
  };
  await commitWrites(tx, await stockChangeWrites(tx, locks, movements, { now, created }), { outbox: outboxRows([received], now) });
  const updated = await updateTransfer(tx, transferId, { status: plan.status, ...(plan.status === 'RECEIVED' ? { receivedAt: now } : {}), at: now }, changes);
  return {
    answer: toTransferView(updated, items, await findTransferLines(tx, [transferId]), now),
    replenishedProductIds: received.items.map((item) => item.productId),
  };
}

/**
 * Cancels a transfer whose units are (some of them) still on their way: those units go back into
 * the source lots they left (TRANSFER_RETURN), what already arrived stays. Locks the transfer, then
 * every lot of its products (a fill of waiting backorders at the source follows in the same
 * transaction). Records TransferCancelled.
 */
export async function cancelTransfer(
  tx: Transaction,
  transferId: string,
  input: CancelTransferBody,
  actor: string,
  now = new Date(),
): Promise<TransferOutcome> {
  const { transfer, items, lines } = await lockOpenTransfer(tx, transferId, 'cancelled');
  const locks = await lockFor(tx, { products: [...new Set(lines.map((line) => line.productId))] });
  const returning = lines.filter((line) => inTransitOf(line) > 0);
  const reason = input?.reason ?? null;
  const movements: LotMovement[] = returning.map((line) => ({
    lotId: line.sourceLotId,
    type: 'TRANSFER_RETURN',
    quantityDelta: inTransitOf(line),
    reason: `transfer to ${transfer.toWarehouseId} cancelled${reason === null ? '' : `: ${reason}`}`,
    referenceType: 'transfer',
    referenceId: transferId,
    actor,
  }));
  const cancelled = {
    type: 'TransferCancelled' as const,
    transferId,
    fromWarehouseId: transfer.fromWarehouseId,
    toWarehouseId: transfer.toWarehouseId,
    reference: transfer.reference,
    items: productLinesOf(returning.map((line) => ({ productId: line.productId, quantity: inTransitOf(line) }))),
    reason,
    cancelledBy: actor,
    timestamp: now,
  };
  const written = await commitWritesReadingLedger(tx, await stockChangeWrites(tx, locks, movements, { now }), { outbox: outboxRows([cancelled], now) });
  const updated = await updateTransfer(
    tx,
    transferId,
    { status: 'CANCELLED', cancelledAt: now, cancelReason: reason, at: now },
    returning.map((line) => ({ id: line.id, returned: inTransitOf(line) })),
  );
  return { answer: toTransferView(updated, items, await findTransferLines(tx, [transferId]), now), replenishedProductIds: replenishedProducts(written) };
}

/** A transfer with its products and lines as it stands at `now`; 404 when there is none. */
export async function getTransfer(db: Queryable, transferId: string, now: Date): Promise<TransferView> {
  const transfer = await findTransfer(db, transferId);
  if (!transfer) throw notFound('Transfer', transferId);
  return toTransferView(transfer, await findTransferItems(db, [transferId]), await findTransferLines(db, [transferId]), now);
}

/** One page of the transfers matching every filter given, newest first, each as it stands at `now`; `nextCursor` continues after it. */
export async function findTransfers(db: Queryable, query: ListTransfersQuery, now: Date): Promise<TransferPage> {
  const { status, overdue, cursor, limit, ...filters } = query;
  const rows = await searchTransfers(db, {
    ...filters,
    statuses: status,
    ...(overdue === undefined ? {} : { overdue: { is: overdue, at: now } }),
    after: cursor,
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const ids = page.map((row) => row.id);
  const [items, lines] = [await findTransferItems(db, ids), await findTransferLines(db, ids)];
  return {
    items: page.map((row) =>
      toTransferView(
        row,
        items.filter((item) => item.transferId === row.id),
        lines.filter((line) => line.transferId === row.id),
        now,
      ),
    ),
    nextCursor: rows.length > limit ? page.at(-1)!.id : null,
  };
}
