import type { MovementRow } from '../../db/lot-store';

/**
 * The products whose on-hand stock grew through the given movements (receipts, returns, positive
 * corrections, transfer arrivals), each once and in id order. Use cases that bring stock in report
 * these, so work that must follow an arrival in the same transaction knows where to look.
 */
export function replenishedProducts(movements: readonly Pick<MovementRow, 'productId' | 'quantityDelta'>[]): string[] {
  const products = new Set(movements.filter((movement) => movement.quantityDelta > 0).map((movement) => movement.productId));
  return [...products].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
