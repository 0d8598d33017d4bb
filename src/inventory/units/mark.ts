/**
 * Marking units sold or delivered (seed 004's mark-sold, mark-delivered): through the reservations
 * that hold them, allocated or shipped by the normal use cases, so the ledger, the lines, both
 * histories and the events stay whole.
 */
import type { Transaction } from '../../db/client';
import { lockFor } from '../../db/locks';
import { findReservationLines, lockReservations, lockReservationsOfOrder, type ReservationRow } from '../../db/reservation-store';
import { findUnitRowsOfProduct, findUnitRowsOfReservations, type UnitRow } from '../../db/unit-store';
import { canSee } from '../../domain/ownership';
import { effectiveStatus } from '../../domain/reservation';
import { markedFrom, whyNotMarked, type MarkTarget } from '../../domain/units';
import { AppError } from '../../errors';
import type { ReservationDetail } from '../../schemas/reservations';
import type { MarkUnitsAnswer, MarkUnitsInput, RefusedUnit } from '../../schemas/units';
import { allocateReservation } from '../reservations/allocate';
import type { UseCaseContext } from '../reservations/reserve';
import { shipReservation } from '../reservations/ship';
import { productsOf } from '../reservations/transitions';
import { unitView } from './views';

type Context = Omit<UseCaseContext, 'config'>;

/** The units a call moves, grouped by the reservation that holds them, and the units it refuses. */
type Plan = { moving: Map<string, UnitRow[]>; refused: RefusedUnit[] };

const refusal = (unit: Pick<UnitRow, 'productId' | 'serialNumber' | 'status' | 'reservationId'>, reason: string): RefusedUnit => ({
  productId: unit.productId,
  serialNumber: unit.serialNumber,
  status: unit.status,
  reservationId: unit.reservationId,
  reason,
});

/** Why a unit of a locked reservation may not move to the target now, or null. */
function whyNot(unit: UnitRow, reservation: ReservationRow, target: MarkTarget, now: Date): string | null {
  const why = whyNotMarked(unit.status, target);
  if (why !== null) return why;
  if (target === 'SOLD' && effectiveStatus(reservation, now) !== 'RESERVED') {
    return `its reservation ${reservation.id} is ${effectiveStatus(reservation, now)} (its hold ended at ${reservation.expiresAt.toISOString()})`;
  }
  return null;
}

/**
 * Every unit of the caller's order (its own owner's) that is not yet in the target status: each
 * must be able to move there. 404 when the order has no unit at all.
 */
async function planForOrder(tx: Transaction, orderId: string, target: MarkTarget, ctx: Context): Promise<Plan> {
  const reservations = await lockReservationsOfOrder(tx, ctx.scope.owner, orderId);
  const units = await findUnitRowsOfReservations(
    tx,
    reservations.map((reservation) => reservation.id),
  );
  if (units.length === 0) throw new AppError('NOT_FOUND', `Order ${orderId} has no units`, { orderId });
  const byId = new Map(reservations.map((reservation) => [reservation.id, reservation]));
  const plan: Plan = { moving: new Map(), refused: [] };
  for (const unit of units) {
    if (unit.status === target || unit.status === 'DELIVERED') continue;
    const reservation = byId.get(unit.reservationId!)!;
    const why = whyNot(unit, reservation, target, ctx.now);
    if (why !== null) plan.refused.push(refusal(unit, why));
    else plan.moving.set(reservation.id, [...(plan.moving.get(reservation.id) ?? []), unit]);
  }
  if (plan.moving.size === 0 && plan.refused.length === 0) {
    plan.refused.push(...units.map((unit) => refusal(unit, `Unit is already ${unit.status}`)));
  }
  return plan;
}

/**
 * The named units of one product: each must exist, belong to a reservation the caller sees and be
 * able to move to the target. A reservation is allocated whole, so to sell units every unit their
 * reservations hold must be named.
 */
async function planForSerials(tx: Transaction, productId: string, serialNumbers: readonly string[], target: MarkTarget, ctx: Context): Promise<Plan> {
  const seen = await findUnitRowsOfProduct(tx, productId, serialNumbers);
  const reservations = await lockReservations(
    tx,
    seen.flatMap((unit) => (unit.reservationId !== null && unit.owner !== null && canSee(ctx.scope, unit.owner) ? [unit.reservationId] : [])),
  );
  const byId = new Map(reservations.map((reservation) => [reservation.id, reservation]));
  // read again under the reservations' locks: only a change of its reservation moves a unit of one
  const units = new Map((await findUnitRowsOfProduct(tx, productId, serialNumbers)).map((unit) => [unit.serialNumber, unit]));
  const plan: Plan = { moving: new Map(), refused: [] };
  for (const serialNumber of serialNumbers) {
    const unit = units.get(serialNumber);
    if (unit === undefined) {
      plan.refused.push({ productId, serialNumber, status: 'UNKNOWN', reservationId: null, reason: `Product ${productId} has no unit ${serialNumber}` });
      continue;
    }
    const reservation = unit.reservationId === null ? undefined : byId.get(unit.reservationId);
    const why =
      whyNotMarked(unit.status, target) ??
      (reservation === undefined
        ? unit.owner !== null && !canSee(ctx.scope, unit.owner)
          ? 'it is held by another owner'
          : 'its reservation changed while the call ran; try again'
        : whyNot(unit, reservation, target, ctx.now));
    if (why !== null) plan.refused.push(refusal(unit.owner !== null && !canSee(ctx.scope, unit.owner) ? { ...unit, reservationId: null } : unit, why));
    else plan.moving.set(reservation!.id, [...(plan.moving.get(reservation!.id) ?? []), unit]);
  }
  if (target === 'SOLD' && plan.refused.length === 0) {
    const named = new Set(serialNumbers);
    for (const unit of await findUnitRowsOfReservations(tx, [...plan.moving.keys()])) {
      if (unit.status === markedFrom.SOLD && !(unit.productId === productId && named.has(unit.serialNumber))) {
        plan.refused.push(
          refusal(unit, `its reservation ${unit.reservationId!} is sold whole and holds this unit too: name it as well, or release or move it first`),
        );
      }
    }
  }
  return plan;
}

/**
 * POST /units/mark-sold (target SOLD) and /units/mark-delivered (DELIVERED), in the caller's
 * transaction: all the units move, or none — 409 INVALID_TRANSITION listing every unit refused and
 * why (`details.units`). Selling allocates the reservations holding the units (whole, as
 * POST /inventory/allocate does: lot-tracked lines of the same reservation with them); delivering
 * ships them (exactly the named units; by order, everything the order's allocated reservations have
 * not shipped). Reservations are locked in id order, then every lot of their products at once.
 */
export async function markUnits(tx: Transaction, target: MarkTarget, input: MarkUnitsInput, ctx: Context): Promise<MarkUnitsAnswer> {
  const byOrder = 'orderId' in input;
  const plan = byOrder ? await planForOrder(tx, input.orderId, target, ctx) : await planForSerials(tx, input.productId, input.serialNumbers, target, ctx);
  if (plan.refused.length > 0) {
    const what = byOrder ? `of order ${input.orderId}` : `of product ${input.productId}`;
    throw new AppError('INVALID_TRANSITION', `${plan.refused.length} unit(s) ${what} cannot become ${target}; nothing was changed`, { units: plan.refused });
  }
  const reservationIds = [...plan.moving.keys()].sort();
  await lockFor(tx, { products: productsOf(await findReservationLines(tx, reservationIds)) });
  const reservations: ReservationDetail[] = [];
  for (const reservationId of reservationIds) {
    if (target === 'SOLD') reservations.push(await allocateReservation(tx, { reservationId }, ctx));
    else if (byOrder) reservations.push(await shipReservation(tx, { reservationId }, ctx));
    else reservations.push(await shipReservation(tx, { reservationId }, ctx, plan.moving.get(reservationId)));
  }
  const moved = new Set([...plan.moving.values()].flat().map((unit) => unit.id));
  const units = (await findUnitRowsOfReservations(tx, reservationIds)).filter((unit) => moved.has(unit.id));
  return { units: units.map((unit) => unitView(unit, ctx.scope)), reservations };
}
