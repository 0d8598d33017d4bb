import type { StockLine } from '../events/schemas';

/** Sums quantities per product and warehouse (first-seen order), leaving out zeros: the `items` of an event. */
export function stockLinesOf(parts: readonly { productId: string; warehouseId: string; quantity: number }[]): StockLine[] {
  const lines = new Map<string, StockLine>();
  for (const part of parts) {
    if (part.quantity === 0) continue;
    const key = `${part.productId}\u0000${part.warehouseId}`;
    const line = lines.get(key) ?? { productId: part.productId, warehouseId: part.warehouseId, quantity: 0 };
    line.quantity += part.quantity;
    lines.set(key, line);
  }
  return [...lines.values()];
}

/** Sums quantities per product (first-seen order): the `items` of a transfer event. */
export function productLinesOf(parts: readonly { productId: string; quantity: number }[]): { productId: string; quantity: number }[] {
  const lines = new Map<string, number>();
  for (const part of parts) lines.set(part.productId, (lines.get(part.productId) ?? 0) + part.quantity);
  return [...lines].map(([productId, quantity]) => ({ productId, quantity }));
}
