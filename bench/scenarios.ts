/** The scenarios, their sizes in full and quick mode, and which system runs which. */
import type { Drive } from './loadgen';
import { benchWarehouses, spreadProductId, type Workload } from './workloads';

export const systems = ['ours', 'baseline', 'ceiling'] as const;
export type System = (typeof systems)[number];

export const scenarioNames = ['hot', 'hot-scarce', 'spread', 'hot-1k', 'sync-hot', 'sync-spread', 'hot-bulk'] as const;
export type ScenarioName = (typeof scenarioNames)[number];

export type Sizes = {
  jobs: number;
  scarceJobs: number;
  scarceStock: number;
  spreadProducts: number;
  /** The most lines (products) a spread job names; each names 1 to this many. */
  spreadLines: number;
  rateJobs: number;
  ratePerSecond: number;
  syncJobs: number;
  concurrency: number;
};

export const fullSizes: Sizes = {
  jobs: 20_000,
  scarceJobs: 20_000,
  scarceStock: 5_000,
  spreadProducts: 10_000,
  spreadLines: 3,
  rateJobs: 10_000,
  ratePerSecond: 1_000,
  syncJobs: 20_000,
  concurrency: 64,
};

export const quickSizes: Sizes = {
  jobs: 1_000,
  scarceJobs: 1_000,
  scarceStock: 250,
  spreadProducts: 300,
  spreadLines: 3,
  rateJobs: 500,
  ratePerSecond: 1_000,
  syncJobs: 500,
  concurrency: 64,
};

/** Units on hand in each hot lot with ample stock (the most one adjustment line may receive). */
export const ampleStock = 1_000_000;
/** Units on hand in each spread lot (one lot per product and warehouse). */
export const spreadLotStock = 1_000;

/** How a scenario reaches the system: the async job API (one job a call, or batches), or a synchronous call answered with the final result. */
export type Endpoint = 'allocations' | 'allocations-batch' | 'reserve';

/** The route each endpoint posts to. */
export const endpointPaths: Record<Endpoint, string> = {
  allocations: '/api/v1/allocations',
  'allocations-batch': '/api/v1/allocations/batch',
  reserve: '/api/v1/inventory/reserve',
};

/** Jobs per call of the bulk scenario, and its callers: 8 × 100 jobs in flight stay under the default backlog bound (2,000). */
export const bulkBatchSize = 100;
const bulkCallers = 8;

export type Scenario = {
  name: ScenarioName;
  title: string;
  endpoint: Endpoint;
  workload: Workload;
  count: number;
  drive: Drive;
  /** Every n-th job asks for a backorder (0: none). */
  backorderEvery: number;
  /** Products whose held units must grow by exactly the units granted. */
  productIds: string[];
  /** For a scarce scenario: exactly this many jobs must succeed. */
  expectSucceeded?: number;
  /** Jobs per call (endpoint allocations-batch). */
  batchSize?: number;
  /** Systems that run it. */
  systems: readonly System[];
};

/** The single hot lot of each hot scenario: [product, on hand]. */
export function hotProducts(sizes: Sizes): { productId: string; quantity: number }[] {
  return [
    { productId: 'hot-1', quantity: ampleStock },
    { productId: 'hot-scarce-1', quantity: sizes.scarceStock },
    { productId: 'hot-rate-1', quantity: ampleStock },
    { productId: 'sync-hot-1', quantity: ampleStock },
    { productId: 'hot-bulk-1', quantity: ampleStock },
  ];
}

/** How many lines a spread job names, for a scenario's title. */
const linesOf = (sizes: Sizes): string => (sizes.spreadLines === 1 ? '1 line' : `1–${sizes.spreadLines} lines`);

/** Every scenario of a run, in the order they run. */
export function scenarios(sizes: Sizes): Scenario[] {
  const warehouseId = benchWarehouses[0];
  const closed = { mode: 'closed', concurrency: sizes.concurrency } as const;
  const spreadIds = Array.from({ length: sizes.spreadProducts }, (_, i) => spreadProductId(i));
  const spread = (seed: number): Workload => ({ kind: 'spread', productCount: sizes.spreadProducts, maxLines: sizes.spreadLines, maxQuantity: 3, seed });
  return [
    {
      name: 'hot',
      title: `${sizes.jobs} jobs of 1 unit of one product, ${sizes.concurrency} callers`,
      endpoint: 'allocations',
      workload: { kind: 'hot', productId: 'hot-1', warehouseId, quantity: 1 },
      count: sizes.jobs,
      drive: closed,
      backorderEvery: 0,
      productIds: ['hot-1'],
      systems: ['ours', 'baseline', 'ceiling'],
    },
    {
      name: 'hot-scarce',
      title: `${sizes.scarceJobs} jobs of 1 unit for ${sizes.scarceStock} units; every other job asks for a backorder`,
      endpoint: 'allocations',
      workload: { kind: 'hot', productId: 'hot-scarce-1', warehouseId, quantity: 1 },
      count: sizes.scarceJobs,
      drive: closed,
      backorderEvery: 2,
      productIds: ['hot-scarce-1'],
      expectSucceeded: sizes.scarceStock,
      systems: ['ours'],
    },
    {
      name: 'spread',
      title: `${sizes.jobs} jobs of ${linesOf(sizes)} over ${sizes.spreadProducts} products in 3 warehouses`,
      endpoint: 'allocations',
      workload: spread(1),
      count: sizes.jobs,
      drive: closed,
      backorderEvery: 0,
      productIds: spreadIds,
      systems: ['ours', 'baseline', 'ceiling'],
    },
    {
      name: 'hot-1k',
      title: `${sizes.rateJobs} jobs on one product offered at ${sizes.ratePerSecond}/s`,
      endpoint: 'allocations',
      workload: { kind: 'hot', productId: 'hot-rate-1', warehouseId, quantity: 1 },
      count: sizes.rateJobs,
      drive: { mode: 'rate', perSecond: sizes.ratePerSecond, maxInFlight: 256 },
      backorderEvery: 0,
      productIds: ['hot-rate-1'],
      systems: ['ours', 'baseline', 'ceiling'],
    },
    {
      name: 'sync-hot',
      title: `${sizes.syncJobs} synchronous reserves of 1 unit of one product, ${sizes.concurrency} callers`,
      endpoint: 'reserve',
      workload: { kind: 'hot', productId: 'sync-hot-1', warehouseId, quantity: 1 },
      count: sizes.syncJobs,
      drive: closed,
      backorderEvery: 0,
      productIds: ['sync-hot-1'],
      systems: ['ours'],
    },
    {
      name: 'sync-spread',
      title: `${sizes.syncJobs} synchronous reserves of ${linesOf(sizes)} over ${sizes.spreadProducts} products, ${sizes.concurrency} callers`,
      endpoint: 'reserve',
      workload: spread(2),
      count: sizes.syncJobs,
      drive: closed,
      backorderEvery: 0,
      productIds: spreadIds,
      systems: ['ours'],
    },
    {
      name: 'hot-bulk',
      title: `${sizes.jobs} jobs of 1 unit of one product, sent ${bulkBatchSize} a call (POST /allocations/batch) by ${bulkCallers} callers`,
      endpoint: 'allocations-batch',
      workload: { kind: 'hot', productId: 'hot-bulk-1', warehouseId, quantity: 1 },
      count: sizes.jobs,
      drive: { mode: 'closed', concurrency: bulkCallers },
      batchSize: bulkBatchSize,
      backorderEvery: 0,
      productIds: ['hot-bulk-1'],
      systems: ['ours'],
    },
  ];
}
