import { startAllocationRelay } from './allocation-relay';
import { startAllocationWorker } from './allocation-worker';
import { startCatalogEventsConsumer } from './catalog-events-consumer';
import { startConsistencyMonitor } from './consistency-monitor';
import { startExpirySweeper } from './expiry-sweeper';
import { startIdempotencyPruner } from './idempotency-pruner';
import { startOrderEventsConsumer } from './order-events-consumer';
import { startOutboxRelay } from './outbox-relay';
import type { Runner, WorkerDeps } from './runner';

type RunnerFactory = (deps: WorkerDeps) => Runner | Promise<Runner>;

/** Every background job of the worker role. */
const runnerFactories: RunnerFactory[] = [
  startExpirySweeper,
  startAllocationWorker,
  startAllocationRelay,
  startOutboxRelay,
  startOrderEventsConsumer,
  startCatalogEventsConsumer,
  startIdempotencyPruner,
  startConsistencyMonitor,
];

/** Starts every background runner of the worker role. */
export async function startWorkers(deps: WorkerDeps): Promise<Runner[]> {
  const runners: Runner[] = [];
  for (const start of runnerFactories) runners.push(await start(deps));
  deps.logger.info({ runners: runners.map((runner) => runner.name) }, 'workers started');
  return runners;
}
