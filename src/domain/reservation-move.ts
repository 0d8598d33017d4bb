/**
 * Moving a reservation's held units to another order: which lines give how many. Pure. The units
 * stay in their lots and stay reserved; only the reservation holding them changes.
 */
import { heldOf, type LineParts } from './reservation';

/** A line of the reservation units are moved from. */
export type MovableLine = LineParts & { id: string; lotId: string; productId: string; warehouseId: string };

/** Units of a product to move, from one warehouse's lines when warehouseId is given, else from any. */
export type MoveItem = { productId: string; quantity: number; warehouseId?: string };

/** Units of one line that move. */
export type LineMove = { lineId: string; lotId: string; productId: string; warehouseId: string; quantity: number };

/** A move asking for more of a product (at a warehouse) than the reservation holds of it. */
export type MoveShortfall = { productId: string; warehouseId?: string; requested: number; held: number };

/** What moving gives: the units each line gives, or the items the reservation cannot give. */
export type MovePlan = { moves: LineMove[]; shortfalls: [] } | { moves: []; shortfalls: MoveShortfall[] };

const matches = (line: MovableLine, item: MoveItem) =>
  line.productId === item.productId && (item.warehouseId === undefined || line.warehouseId === item.warehouseId);

/**
 * Plans a move: with no items, every held unit of every line; otherwise each item's quantity from
 * the lines of its product (and warehouse), in line order, never more than a line holds. Items are
 * planned one after another, so two items of one product share its lines. All or nothing: when any
 * item asks for more than is held, nothing moves and each such item is named with what was held.
 */
export function planMove(lines: readonly MovableLine[], items?: readonly MoveItem[]): MovePlan {
  const moveOf = (line: MovableLine, quantity: number): LineMove => ({
    lineId: line.id,
    lotId: line.lotId,
    productId: line.productId,
    warehouseId: line.warehouseId,
    quantity,
  });
  if (items === undefined) {
    return { moves: lines.filter((line) => heldOf(line) > 0).map((line) => moveOf(line, heldOf(line))), shortfalls: [] };
  }
  const left = new Map(lines.map((line) => [line.id, heldOf(line)]));
  const taken = new Map<string, number>();
  const shortfalls: MoveShortfall[] = [];
  for (const item of items) {
    const candidates = lines.filter((line) => matches(line, item));
    const held = candidates.reduce((sum, line) => sum + (left.get(line.id) ?? 0), 0);
    if (held < item.quantity) {
      shortfalls.push({
        productId: item.productId,
        ...(item.warehouseId === undefined ? {} : { warehouseId: item.warehouseId }),
        requested: item.quantity,
        held,
      });
      continue;
    }
    let wanted = item.quantity;
    for (const line of candidates) {
      const take = Math.min(left.get(line.id) ?? 0, wanted);
      if (take === 0) continue;
      left.set(line.id, (left.get(line.id) ?? 0) - take);
      taken.set(line.id, (taken.get(line.id) ?? 0) + take);
      wanted -= take;
      if (wanted === 0) break;
    }
  }
  if (shortfalls.length > 0) return { moves: [], shortfalls };
  return { moves: lines.filter((line) => taken.has(line.id)).map((line) => moveOf(line, taken.get(line.id)!)), shortfalls: [] };
}
