/** Transfers between warehouses: their statuses, when one is overdue, and how a receipt shares out over its lines. Pure. */

/** IN_TRANSIT until units arrive; PARTIALLY_RECEIVED while some are still on their way; RECEIVED or CANCELLED at the end. */
export const transferStatuses = ['IN_TRANSIT', 'PARTIALLY_RECEIVED', 'RECEIVED', 'CANCELLED'] as const;
export type TransferStatus = (typeof transferStatuses)[number];

/** The statuses of a transfer with units still on their way: it may be received or cancelled. */
export const openTransferStatuses: readonly TransferStatus[] = ['IN_TRANSIT', 'PARTIALLY_RECEIVED'];

/**
 * A transfer is overdue when units are still on their way at or after its expected delivery.
 * SQL mirror: `overdueTransferSql` in src/db/transfer-store.ts.
 */
export function isTransferOverdue(transfer: { status: TransferStatus; expectedDelivery: Date | null }, now: Date): boolean {
  return openTransferStatuses.includes(transfer.status) && transfer.expectedDelivery !== null && transfer.expectedDelivery.getTime() <= now.getTime();
}

/** A line's units and what became of them so far. */
export type TransferLineProgress = {
  id: string;
  productId: string;
  quantity: number;
  receivedQuantity: number;
  shortQuantity: number;
  returnedQuantity: number;
};

/** Units of a line still on their way. */
export function inTransitOf(line: TransferLineProgress): number {
  return line.quantity - line.receivedQuantity - line.shortQuantity - line.returnedQuantity;
}

/** Units that arrived, of a product (spread over its lines in order) or of one line. */
export type Arrival = { productId: string; quantity: number } | { lineId: string; quantity: number };

/** What a receipt does to one line: units arriving now, and units recorded as short (lost on the way). */
export type LineReceipt = { lineId: string; received: number; short: number };

/** Why a receipt cannot be taken; an expected outcome, returned rather than thrown. */
export type ReceiptRefusal =
  | { code: 'UNKNOWN_REFERENCE'; unknown: { item: number; productId?: string; lineId?: string }[] }
  | { code: 'CONFLICT'; excess: { item: number; productId?: string; lineId?: string; received: number; inTransit: number }[] };

/**
 * Shares a receipt out over the lines still in transit. Without arrivals everything still on its way
 * arrives. A product's units go to its lines in order; a line's to that line. With `complete`, what is
 * still on its way afterwards is recorded as short and the transfer is done. Returns the parts per
 * line (only lines that change) and the status afterwards, or a refusal naming every bad arrival.
 */
export function planReceipt(
  lines: readonly TransferLineProgress[],
  arrivals: readonly Arrival[] | undefined,
  complete: boolean,
): { receipts: LineReceipt[]; status: TransferStatus } | { refusal: ReceiptRefusal } {
  const left = new Map(lines.map((line) => [line.id, inTransitOf(line)]));
  const received = new Map<string, number>();
  const take = (lineId: string, quantity: number) => {
    received.set(lineId, (received.get(lineId) ?? 0) + quantity);
    left.set(lineId, left.get(lineId)! - quantity);
  };
  const unknown: { item: number; productId?: string; lineId?: string }[] = [];
  const excess: { item: number; productId?: string; lineId?: string; received: number; inTransit: number }[] = [];

  if (arrivals === undefined) {
    for (const line of lines) take(line.id, left.get(line.id)!);
  } else {
    arrivals.forEach((arrival, item) => {
      const named = 'lineId' in arrival ? lines.filter((line) => line.id === arrival.lineId) : lines.filter((line) => line.productId === arrival.productId);
      const what = 'lineId' in arrival ? { lineId: arrival.lineId } : { productId: arrival.productId };
      if (named.length === 0) {
        unknown.push({ item, ...what });
        return;
      }
      const inTransit = named.reduce((sum, line) => sum + left.get(line.id)!, 0);
      if (arrival.quantity > inTransit) {
        excess.push({ item, ...what, received: arrival.quantity, inTransit });
        return;
      }
      let rest = arrival.quantity;
      for (const line of named) {
        const part = Math.min(rest, left.get(line.id)!);
        if (part > 0) take(line.id, part);
        rest -= part;
      }
    });
  }
  if (unknown.length > 0) return { refusal: { code: 'UNKNOWN_REFERENCE', unknown } };
  if (excess.length > 0) return { refusal: { code: 'CONFLICT', excess } };

  const receipts = lines
    .map((line) => ({ lineId: line.id, received: received.get(line.id) ?? 0, short: complete ? left.get(line.id)! : 0 }))
    .filter((receipt) => receipt.received > 0 || receipt.short > 0);
  const stillOnTheWay = lines.some((line) => left.get(line.id)! > 0) && !complete;
  return { receipts, status: stillOnTheWay ? 'PARTIALLY_RECEIVED' : 'RECEIVED' };
}
