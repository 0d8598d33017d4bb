import { Command } from 'commander';
import { demoProducts, demoReceipts, demoWarehouses } from '../demo-data';
import { CliError } from '../errors';
import { callApi, type ApiTarget } from '../http';
import { startProgress } from '../progress';
import { positiveInteger, type CommandContext } from '../context';

const receiptsPerRequest = 200;
const parallelRequests = 8;

/** Creates a catalogue entry; one that already exists counts as done, so seed can run again. */
async function create(target: ApiTarget, path: string, body: unknown): Promise<'created' | 'existed'> {
  try {
    await callApi(target, 'POST', path, { body });
    return 'created';
  } catch (error) {
    if (error instanceof CliError && error.apiCode === 'ALREADY_EXISTS') return 'existed';
    throw error;
  }
}

/** Runs `work` over every item, `parallel` at a time. */
async function forEachParallel<T>(items: readonly T[], parallel: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(parallel, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(lanes);
}

/** `stockroom seed`: demo warehouses, products and lots, created through the HTTP API. */
export function seedCommand(context: CommandContext): Command {
  return new Command('seed')
    .description('create demo warehouses, products and lots through the API (--size N products)')
    .option('--size <n>', 'how many products', positiveInteger, 20)
    .action(async (options: { size: number }) => {
      const target = context.target();
      const { output } = context;
      const products = demoProducts(options.size);
      const progress = startProgress(output, { label: 'seeding the catalogue', total: demoWarehouses.length + products.length, unit: 'entries' });
      let warehousesCreated = 0;
      const fresh = new Set<string>();
      try {
        for (const warehouse of demoWarehouses) {
          if ((await create(target, '/api/v1/warehouses', warehouse)) === 'created') warehousesCreated += 1;
          progress.advance();
        }
        await forEachParallel(products, parallelRequests, async (product) => {
          if ((await create(target, '/api/v1/products', product)) === 'created') fresh.add(product.id);
          progress.advance();
        });
      } finally {
        progress.stop();
      }

      // Products that existed already keep their stock: receipts go only to new ones, so seed can run again.
      const lots = demoReceipts(products, new Date()).filter((receipt) => fresh.has(receipt.productId));
      const batches = Array.from({ length: Math.ceil(lots.length / receiptsPerRequest) }, (_, index) =>
        lots.slice(index * receiptsPerRequest, (index + 1) * receiptsPerRequest),
      );
      const lotProgress = startProgress(output, { label: 'seeding lots', total: lots.length, unit: 'lots' });
      try {
        await forEachParallel(batches, parallelRequests, async (batch) => {
          await callApi(target, 'PUT', '/api/v1/inventory/adjust', { body: { adjustments: batch } });
          lotProgress.advance(batch.length);
        });
      } finally {
        lotProgress.stop();
      }
      const units = lots.reduce((sum, receipt) => sum + receipt.quantity, 0);
      const summary = {
        warehouses: { created: warehousesCreated, existed: demoWarehouses.length - warehousesCreated },
        products: { created: fresh.size, existed: products.length - fresh.size },
        lots: lots.length,
        units,
      };
      if (output.json) {
        output.out(JSON.stringify(summary, null, 2));
        return;
      }
      output.out(
        `seeded ${summary.warehouses.created} warehouses (${summary.warehouses.existed} existed), ` +
          `${summary.products.created} products (${summary.products.existed} existed), ${lots.length} lots holding ${units} units`,
      );
    });
}
