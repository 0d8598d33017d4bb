/** Taking stock out of lots by hand (shipments, write-offs, transfers): oldest first, available units only. Pure. */
import { available } from './quantities';

/** A lot as removal sees it; `key` names it (a lot id, or a provisional key for a lot not yet written). */
export type RemovableLot = {
  key: string;
  receivedAt: Date;
  quantity: number;
  reservedQuantity: number;
  allocatedQuantity: number;
};

/** Units to take from one lot. */
export type Removal = { lotKey: string; quantity: number };

// code-unit order, so every machine breaks ties the same way
const compareKeys = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The lots oldest first (received_at, then key). */
export function oldestFirst<T extends RemovableLot>(lots: readonly T[]): T[] {
  return [...lots].sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime() || compareKeys(a.key, b.key));
}

/**
 * Takes up to `quantity` units from the lots, oldest first, and only what each lot has available
 * (on hand less reserved and allocated): units held for a reservation or an allocation are never
 * touched. Returns fewer units than asked when the lots do not have them.
 */
export function takeOldestFirst(lots: readonly RemovableLot[], quantity: number): Removal[] {
  if (!Number.isSafeInteger(quantity) || quantity < 0) throw new Error(`quantity must be a whole number of units, got ${quantity}`);
  const removals: Removal[] = [];
  let wanted = quantity;
  for (const lot of oldestFirst(lots)) {
    if (wanted === 0) break;
    const take = Math.min(wanted, available(lot));
    if (take <= 0) continue;
    removals.push({ lotKey: lot.key, quantity: take });
    wanted -= take;
  }
  return removals;
}
