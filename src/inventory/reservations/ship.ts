/** Ship: allocated stock leaves the warehouse. */
import type { Transaction } from '../../db/client';
import { lockFor } from '../../db/locks';
import { findReservationLines, type LineChange } from '../../db/reservation-store';
import { commitWrites } from '../../db/writes';
import type { LotMovement } from '../../domain/movement';
import type { ReservationDetail, ShipInput } from '../../schemas/reservations';
import type { UseCaseContext } from './reserve';
import { stockChangeWrites } from '../stock-changes';
import { assertTransition, assertWithin, loadReservationDetail, lockForChange, quantitiesByProduct } from './transitions';

/** Units of a serial-tracked product to ship by serial number, each with the lot it is in. */
export type NamedUnits = readonly { lotId: string; serialNumber: string }[];

/**
 * Ships all allocated units not yet shipped, or the named quantities, or the `named` units (each
 * line ships as many as are named in its lot, and exactly those): on hand and allocated go down
 * (SHIP movements). ALLOCATED → FULFILLED once every allocated unit has shipped.
 */
export async function shipReservation(tx: Transaction, input: ShipInput, ctx: Omit<UseCaseContext, 'config'>, named?: NamedUnits): Promise<ReservationDetail> {
  const reservation = await lockForChange(tx, input.reservationId, input.version, ctx.scope);
  assertTransition(reservation, 'FULFILLED', ctx.now);
  const lines = await findReservationLines(tx, [reservation.id]);
  const unshipped = (line: { allocatedQuantity: number; shippedQuantity: number }) => line.allocatedQuantity - line.shippedQuantity;
  const wanted = input.items === undefined ? null : quantitiesByProduct(input.items);
  const namedByLot = named === undefined ? null : quantitiesByLot(named);
  if (wanted !== null)
    assertWithin(
      reservation.id,
      wanted,
      quantitiesByProduct(lines.map((line) => ({ productId: line.productId, quantity: unshipped(line) }))),
      'allocated and not shipped',
    );

  const shipping = lines.filter((line) => unshipped(line) > 0);
  const locks = await lockFor(tx, { lotIds: shipping.map((line) => line.lotId) });
  const movements: LotMovement[] = [];
  const changes: LineChange[] = [];
  let left = 0;
  for (const line of shipping) {
    const open = unshipped(line);
    const want = namedByLot !== null ? (namedByLot.get(line.lotId) ?? 0) : wanted === null ? open : (wanted.get(line.productId) ?? 0);
    const ship = Math.min(open, want);
    if (namedByLot !== null) namedByLot.set(line.lotId, want - ship);
    else wanted?.set(line.productId, want - ship);
    left += open - ship;
    if (ship === 0) continue;
    movements.push({
      lotId: line.lotId,
      type: 'SHIP',
      quantityDelta: -ship,
      allocatedDelta: -ship,
      reason: 'shipped',
      referenceType: 'reservation',
      referenceId: reservation.id,
      actor: ctx.actor,
    });
    changes.push({ id: line.id, shippedDelta: ship });
  }
  const fulfilled = left === 0;
  await commitWrites(
    tx,
    {
      reservationChanges: [{ id: reservation.id, ...(fulfilled ? { status: 'FULFILLED' as const } : {}), at: ctx.now }],
      lineChanges: changes,
      statusHistory: fulfilled
        ? [
            {
              reservationId: reservation.id,
              fromStatus: 'ALLOCATED',
              toStatus: 'FULFILLED',
              reason: 'shipped',
              reference: reservation.orderId,
              actor: ctx.actor,
              at: ctx.now,
            },
          ]
        : [],
    },
    await stockChangeWrites(tx, locks, movements, {
      ...ctx,
      ...(named === undefined ? {} : { chosen: new Map([[reservation.id, new Set(named.map((unit) => unit.serialNumber))]]) }),
    }),
  );
  return loadReservationDetail(tx, reservation.id, ctx.now, ctx.scope);
}

/** How many of the units are in each lot. */
function quantitiesByLot(units: NamedUnits): Map<string, number> {
  const byLot = new Map<string, number>();
  for (const unit of units) byLot.set(unit.lotId, (byLot.get(unit.lotId) ?? 0) + 1);
  return byLot;
}
