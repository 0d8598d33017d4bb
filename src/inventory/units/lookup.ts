/** Finding units: by product, status, order, serial number and warehouse; one unit with its history; an order's inventory. */
import { findTracking } from '../../db/catalogue-store';
import type { Queryable } from '../../db/client';
import { findReservationLines, findReservationOwners, findReservationsOfOrderIn, findStatusHistory } from '../../db/reservation-store';
import { findSerialHistory, findUnitRowsBySerial, findUnitRowsOfReservations, searchUnits } from '../../db/unit-store';
import { listOwner, type OwnerScope } from '../../domain/ownership';
import { unitDisagreements } from '../../domain/units';
import { AppError, notFound } from '../../errors';
import { uuidSchema } from '../../schemas/common';
import type { ListUnitsQuery, OrderInventory, UnitDetail, UnitPage } from '../../schemas/units';
import { reservationDetail } from '../reservations/views';
import { unitStepView, unitView } from './views';

/**
 * One page of the units matching every filter given, by product and serial number; `nextCursor`
 * continues after the page. `orderId` finds the units of the scope's own order of that id (an admin's:
 * of every owner's).
 */
export async function findUnits(db: Queryable, query: ListUnitsQuery, scope: OwnerScope): Promise<UnitPage> {
  const { orderId, status, cursor, limit, ...filters } = query;
  const owner = listOwner(scope, undefined);
  if (owner === null) return { items: [], nextCursor: null };
  const rows = await searchUnits(db, {
    ...filters,
    ...(status === undefined ? {} : { statuses: status }),
    ...(orderId === undefined ? {} : { order: { orderId, ...(owner === undefined ? {} : { owner }) } }),
    ...(cursor === undefined ? {} : { after: cursor }),
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  return { items: page.map((row) => unitView(row, scope)), nextCursor: rows.length > limit ? page.at(-1)!.id : null };
}

/**
 * A unit by serial number — its current life — with the status history of the serial number across
 * all its lives, oldest first. Serial numbers are unique per product only: when products share one,
 * `productId` says which (else 409 CONFLICT listing the products); 404 when none has it.
 */
export async function findUnit(db: Queryable, serialNumber: string, productId: string | undefined, scope: OwnerScope): Promise<UnitDetail> {
  const units = await findUnitRowsBySerial(db, serialNumber, productId);
  const unit = units[0];
  if (unit === undefined) throw notFound('Unit', serialNumber);
  if (units.length > 1) {
    throw new AppError('CONFLICT', `Serial number ${serialNumber} is a unit of ${units.length} products; name one with ?productId=`, {
      serialNumber,
      productIds: units.map((candidate) => candidate.productId),
    });
  }
  const history = await findSerialHistory(db, unit.productId, unit.serialNumber);
  const references = history.flatMap((step) => (step.reference !== null && uuidSchema.safeParse(step.reference).success ? [step.reference] : []));
  const owners = await findReservationOwners(db, references);
  return { ...unitView(unit, scope), history: history.map((step) => unitStepView(step, owners, scope)) };
}

/**
 * GET /orders/:orderId/inventory: every reservation of the order (the scope's own; an admin's: of one
 * owner, or every owner's order of that id) with its lines and history as it reads at `now`, the
 * units its reservations hold, sold or delivered, and where those units disagree with the lines of
 * serial-tracked lots (unitDisagreements). 404 when the order has no reservation the scope sees.
 */
export async function findOrderInventory(
  db: Queryable,
  orderId: string,
  requestedOwner: string | undefined,
  scope: OwnerScope,
  now: Date,
): Promise<OrderInventory> {
  const owner = listOwner(scope, requestedOwner);
  const reservations = owner === null ? [] : await findReservationsOfOrderIn(db, orderId, owner);
  if (reservations.length === 0) throw notFound('Order', orderId);
  const ids = reservations.map((reservation) => reservation.id);
  const [lines, units, histories] = await Promise.all([
    findReservationLines(db, ids),
    findUnitRowsOfReservations(db, ids),
    Promise.all(ids.map((id) => findStatusHistory(db, id))),
  ]);
  const tracking = await findTracking(
    db,
    lines.map((line) => line.productId),
  );
  const disagreements = unitDisagreements(
    lines.filter((line) => tracking.get(line.productId) === 'serial'),
    units,
  );
  return {
    orderId,
    consistent: disagreements.length === 0,
    disagreements,
    reservations: reservations.map((reservation, index) =>
      reservationDetail(
        reservation,
        lines.filter((line) => line.reservationId === reservation.id),
        histories[index]!,
        now,
      ),
    ),
    units: units.map((unit) => unitView(unit, scope)),
  };
}
