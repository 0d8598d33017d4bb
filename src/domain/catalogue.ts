/**
 * What the catalogue's flags mean for stock. Pure.
 * SQL mirrors: warehouseServesSql in src/db/lot-store.ts, productRefusesReservationsSql (its negation) in src/db/catalogue-store.ts.
 */

/** The statuses of a product: a DISCONTINUED one takes no new reservations, while those it has live on. */
export const productStatuses = ['ACTIVE', 'DISCONTINUED'] as const;
export type ProductStatus = (typeof productStatuses)[number];

/** Whether a warehouse serves new reservations and allocations: only while active. Stock it holds still leaves it (release, ship, transfers out). */
export function warehouseServes(warehouse: { active: boolean }): boolean {
  return warehouse.active;
}

/** Whether a product takes new reservations and allocations: only while ACTIVE. Its existing reservations are allocated, shipped and released as ever. */
export function productTakesReservations(product: { status: ProductStatus }): boolean {
  return product.status === 'ACTIVE';
}

/** A JSON value as the catalogue stores it: compared by content, with object keys in any order. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const keys = (value: object) => Object.keys(value).filter((key) => (value as Record<string, unknown>)[key] !== undefined);
  const [left, right] = [keys(a), keys(b)];
  return left.length === right.length && left.every((key) => sameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

/**
 * Applies a partial update to a record: the record as it would be after it, and the names of the
 * fields whose value the update changes (in `fields` order; empty when it changes nothing).
 */
export function applyPatch<T extends Record<F, unknown>, F extends string>(
  current: T,
  patch: Partial<Record<F, unknown>>,
  fields: readonly F[],
): { next: T; changed: F[] } {
  const changed = fields.filter((field) => patch[field] !== undefined && !sameValue(patch[field], current[field]));
  const next = { ...current };
  for (const field of changed) next[field] = patch[field] as T[F];
  return { next, changed };
}
