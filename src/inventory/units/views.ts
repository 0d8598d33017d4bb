import type { UnitHistoryRow, UnitRow } from '../../db/unit-store';
import { canSee, type OwnerScope } from '../../domain/ownership';
import type { UnitStepView, UnitView } from '../../schemas/units';

/** A unit as the scope sees it: the reservation and order of another owner's reservation are left out. */
export function unitView(row: UnitRow, scope: OwnerScope): UnitView {
  const { owner, ...unit } = row;
  if (owner === null || canSee(scope, owner)) return unit;
  return { ...unit, reservationId: null, orderId: null };
}

/** A step of a unit's history as the scope sees it: a reference to another owner's reservation is left out (`owners`: the owner of each reference that is a reservation). */
export function unitStepView(step: UnitHistoryRow, owners: ReadonlyMap<string, string>, scope: OwnerScope): UnitStepView {
  const owner = step.reference === null ? undefined : owners.get(step.reference);
  return owner === undefined || canSee(scope, owner) ? step : { ...step, reference: null };
}
