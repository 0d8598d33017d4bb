/** What the load generator sends: deterministic job bodies for each workload, so every system and run gets the same jobs. */
import { seededRandom } from '../src/cli/demo-data';

/** One line of a job: a product, a quantity, and optionally the warehouse it is pinned to. */
export type JobLine = { productId: string; quantity: number; warehouseId?: string };

/** One product, one warehouse, the same quantity every time: every job fights for the same lot. */
export type HotWorkload = { kind: 'hot'; productId: string; warehouseId: string; quantity: number };

/** Jobs of 1–maxLines distinct products drawn from `productCount` products, 1–maxQuantity units each, any warehouse. */
export type SpreadWorkload = { kind: 'spread'; productCount: number; maxLines: number; maxQuantity: number; seed: number };

export type Workload = HotWorkload | SpreadWorkload;

/** Every n-th job asks for a backorder of what it cannot get (0: none do). */
export type JobOptions = { backorderEvery: number };

/** The id of the n-th product of the spread catalogue. */
export function spreadProductId(index: number): string {
  return `spread-${String(index).padStart(6, '0')}`;
}

/** The warehouses every benchmark database holds. */
export const benchWarehouses = ['wh-bench-1', 'wh-bench-2', 'wh-bench-3'] as const;

/** The lines of every job of a workload, in send order. */
export function jobLines(workload: Workload, count: number): JobLine[][] {
  if (workload.kind === 'hot') {
    const line = { productId: workload.productId, quantity: workload.quantity, warehouseId: workload.warehouseId };
    return Array.from({ length: count }, () => [line]);
  }
  // the same seed gives the same spread jobs in every run and for every system
  const random = seededRandom(workload.seed);
  const jobs: JobLine[][] = [];
  for (let i = 0; i < count; i++) {
    const lineCount = 1 + Math.floor(random() * workload.maxLines);
    const chosen = new Set<number>();
    while (chosen.size < Math.min(lineCount, workload.productCount)) chosen.add(Math.floor(random() * workload.productCount));
    jobs.push([...chosen].map((index) => ({ productId: spreadProductId(index), quantity: 1 + Math.floor(random() * workload.maxQuantity) })));
  }
  return jobs;
}

/** The body of POST /api/v1/allocations (SPEC §5); the baseline and the ceiling probe take the same body. */
export function allocationBody(lines: JobLine[], referenceId: string, allowBackorder: boolean): Record<string, unknown> {
  return {
    items: lines,
    mode: 'allocate',
    strategy: 'fifo',
    allowPartial: false,
    allowBackorder,
    priority: 'medium',
    referenceId,
    referenceType: 'bench',
  };
}

/** The body of POST /api/v1/inventory/reserve (seed 002). */
export function reserveBody(lines: JobLine[], orderId: string): Record<string, unknown> {
  return { orderId, items: lines };
}
