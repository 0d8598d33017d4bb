import type { Channel } from 'amqplib';
import { keepChannel } from '../amqp/channels';
import { consumeInBatches, type Delivery } from '../amqp/consumer';
import { createPublisher } from '../amqp/publisher';
import { deadQueueBounds, keepAllocationTopology } from '../amqp/topology';
import { jobSettler, serveJobMessages } from '../inventory/jobs/job-messages';
import { queueDepth } from '../metrics';
import type { Runner, WorkerDeps } from './runner';

const QUEUE_DEPTH_INTERVAL_MS = 5000;

/**
 * The allocation worker: consumes the job queue in batches (prefetch WORKER_CONCURRENCY, up to
 * WORKER_BATCH_SIZE jobs per transaction), acks after commit, sends transient failures through the
 * retry queues and dead-letters what cannot succeed. Stopping cancels the consumer and finishes
 * (and acks) the jobs in flight.
 */
export async function startAllocationWorker({ config, pool, logger, amqp }: WorkerDeps): Promise<Runner> {
  const log = logger.child({ component: 'allocation-worker' });
  const kept = await keepAllocationTopology(amqp, config.ALLOCATION_QUEUE, config.JOB_RETRY_DELAYS_MS, deadQueueBounds(config), log);
  const { topology } = kept;
  const publisher = await createPublisher(amqp, logger);

  const settler = jobSettler({ pool, config, publisher, topology, log });

  const handle = async (batch: Delivery[]): Promise<void> => {
    const settlement = settler.batch();
    const outcomes = await serveJobMessages({ pool, config }, batch, settlement);
    await settlement.settle();
    // one line per job, written once its message is settled
    for (const [allocationId, outcome] of outcomes) {
      log.info({ allocationId, outcome: outcome.kind, ...('status' in outcome ? { status: outcome.status } : {}) }, 'allocation job settled');
    }
  };

  const consumer = await consumeInBatches(
    amqp,
    logger,
    {
      queue: topology.work,
      prefetch: config.WORKER_CONCURRENCY,
      batchSize: config.WORKER_BATCH_SIZE,
      batchWaitMs: config.WORKER_BATCH_WAIT_MS,
      onCancelled: () => kept.redeclare(),
    },
    handle,
  );

  const inspector = await keepChannel<Channel>(
    amqp,
    log,
    (model) => model.createChannel(),
    async () => {},
  );
  const queues = [topology.work, ...topology.retries.map((retry) => retry.queue), topology.dead];
  const depthTimer = setInterval(() => {
    const channel = inspector.current();
    if (!channel) return;
    void Promise.all(queues.map(async (queue) => queueDepth.set({ queue }, (await channel.checkQueue(queue)).messageCount))).catch(() => {});
  }, QUEUE_DEPTH_INTERVAL_MS);
  depthTimer.unref();

  return {
    name: 'allocation-worker',
    async stop() {
      clearInterval(depthTimer);
      await consumer.stop();
      await inspector.close();
      await publisher.close();
    },
  };
}
