import type { ReservationLineRow, ReservationRow } from '../../db/reservation-store';
import { effectiveStatus, heldOf, type StatusChange } from '../../domain/reservation';
import type { ReservationDetail, ReservationSummary, ReservationView } from '../../schemas/reservations';

type ViewLine = Pick<ReservationLineRow, 'productId' | 'warehouseId' | 'lotId' | 'lotNumber' | 'quantity'> &
  Partial<Pick<ReservationLineRow, 'allocatedQuantity' | 'shippedQuantity' | 'releasedQuantity' | 'movedQuantity'>>;

type Item<L> = { productId: string; warehouseId: string; quantity: number; reserved: boolean; released: boolean; lots: L[] };

/** Groups lines into one item per product and warehouse (in the order first taken) and one entry per lot. */
function groupLines<V extends ViewLine, L extends { lotId: string; quantity: number }>(
  lines: readonly V[],
  toLot: (line: V) => L,
  addTo: (lot: L, line: V) => void,
): Item<L>[] {
  const items = new Map<string, Item<L> & { byLot: Map<string, L> }>();
  for (const line of lines) {
    const key = `${line.productId}\u0000${line.warehouseId}`;
    let item = items.get(key);
    if (item === undefined) {
      item = { productId: line.productId, warehouseId: line.warehouseId, quantity: 0, reserved: true, released: false, lots: [], byLot: new Map() };
      items.set(key, item);
    }
    item.quantity += line.quantity;
    if ((line.releasedQuantity ?? 0) > 0) {
      item.reserved = false;
      item.released = true;
    }
    const lot = item.byLot.get(line.lotId);
    if (lot === undefined) {
      const created = toLot(line);
      item.byLot.set(line.lotId, created);
      item.lots.push(created);
    } else {
      addTo(lot, line);
    }
  }
  return [...items.values()].map(({ byLot: _byLot, ...item }) => item);
}

/** The SPEC section 6 answer for a reservation and its lines. */
export function reservationView(
  reservation: Pick<ReservationRow, 'id' | 'orderId' | 'status' | 'expiresAt' | 'createdAt'>,
  lines: readonly ViewLine[],
): ReservationView {
  return {
    reservationId: reservation.id,
    orderId: reservation.orderId,
    status: reservation.status,
    items: groupLines(
      lines,
      (line) => ({ lotId: line.lotId, lotNumber: line.lotNumber, quantity: line.quantity }),
      (lot, line) => {
        lot.quantity += line.quantity;
      },
    ),
    expiresAt: reservation.expiresAt,
    createdAt: reservation.createdAt,
  };
}

/** A reservation as it reads at `now` (a lapsed hold reads EXPIRED), with what became of every lot's units. */
export function reservationSummary(reservation: ReservationRow, lines: readonly ReservationLineRow[], now: Date): ReservationSummary {
  const items = groupLines(
    lines,
    (line) => ({
      lotId: line.lotId,
      lotNumber: line.lotNumber,
      quantity: line.quantity,
      reservedQuantity: heldOf(line),
      allocatedQuantity: line.allocatedQuantity,
      shippedQuantity: line.shippedQuantity,
      releasedQuantity: line.releasedQuantity,
      movedQuantity: line.movedQuantity,
    }),
    (lot, line) => {
      lot.quantity += line.quantity;
      lot.reservedQuantity += heldOf(line);
      lot.allocatedQuantity += line.allocatedQuantity;
      lot.shippedQuantity += line.shippedQuantity;
      lot.releasedQuantity += line.releasedQuantity;
      lot.movedQuantity += line.movedQuantity;
    },
  );
  return {
    reservationId: reservation.id,
    owner: reservation.owner,
    orderId: reservation.orderId,
    customerId: reservation.customerId,
    status: effectiveStatus(reservation, now),
    priority: reservation.priority,
    strategy: reservation.strategy,
    version: reservation.version,
    items,
    expiresAt: reservation.expiresAt,
    createdAt: reservation.createdAt,
    updatedAt: reservation.updatedAt,
    // a released reservation never changes again, so its last change is its release
    releasedAt: reservation.status === 'RELEASED' ? reservation.updatedAt : null,
  };
}

/** A reservation as it reads at `now`, with what became of every lot's units and its status history. */
export function reservationDetail(
  reservation: ReservationRow,
  lines: readonly ReservationLineRow[],
  history: readonly StatusChange[],
  now: Date,
): ReservationDetail {
  return { ...reservationSummary(reservation, lines, now), history: history.map(({ reservationId: _id, ...change }) => change) };
}
