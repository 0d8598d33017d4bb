import { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { demoProducts, demoReceipts, demoWarehouses } from '../demo-data';
import { CliError } from '../errors';
import { callApi, type ApiTarget } from '../http';
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
      const bar = new SingleBar({ format: 'seeding {step} {bar} {value}/{total}', stream: process.stderr, hideCursor: true }, Presets.shades_classic);
      const showBar = output.interactive && options.size >= 100;
      if (showBar) bar.start(demoWarehouses.length + products.length, 0, { step: 'catalogue' });

      let warehousesCreated = 0;
      for (const warehouse of demoWarehouses) {
        if ((await create(target, '/api/v1/warehouses', warehouse)) === 'created') warehousesCreated += 1;
        if (showBar) bar.increment();
      }
      const fresh = new Set<string>();
      await forEachParallel(products, parallelRequests, async (product) => {
        if ((await create(target, '/api/v1/products', product)) === 'created') fresh.add(product.id);
        if (showBar) bar.increment();
      });

      // Products that existed already keep their stock: receipts go only to new ones, so seed can run again.
      const lots = demoReceipts(products, new Date()).filter((receipt) => fresh.has(receipt.productId));
      const batches = Array.from({ length: Math.ceil(lots.length / receiptsPerRequest) }, (_, index) =>
        lots.slice(index * receiptsPerRequest, (index + 1) * receiptsPerRequest),
      );
      if (showBar) {
        bar.setTotal(bar.getTotal() + lots.length);
        bar.update({ step: 'lots' });
      }
      await forEachParallel(batches, parallelRequests, async (batch) => {
        await callApi(target, 'PUT', '/api/v1/inventory/adjust', { body: { adjustments: batch } });
        if (showBar) bar.increment(batch.length);
      });
      if (showBar) bar.stop();
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
