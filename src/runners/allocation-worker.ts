import type { Channel } from 'amqplib';
import { keepChannel } from '../amqp/channels';
import { consumeInBatches, type BatchConsumer, type Delivery } from '../amqp/consumer';
import { createPublisher } from '../amqp/publisher';
import { allocationQueuesOf, keepAllocationTopology, workQueues, type AllocationTopology } from '../amqp/topology';
import { jobSettler, serveJobMessages } from '../inventory/jobs/job-messages';
import { queueDepth } from '../metrics';
import { runWithin, startBatchTrace } from '../tracing/trace-context';
import type { Runner, WorkerDeps } from './runner';

const QUEUE_DEPTH_INTERVAL_MS = 5000;
const REBALANCE_INTERVAL_MS = 2000;

/** One partition's queues and this worker's consumer of them. */
type PartitionConsumer = { topology: AllocationTopology; consumer: BatchConsumer; releasing: boolean };

/**
 * The allocation worker: consumes the job queues in batches (up to WORKER_BATCH_SIZE jobs per
 * transaction), acks after commit, sends transient failures through the retry queues and
 * dead-letters what cannot succeed. Stopping cancels the consumers and finishes (and acks) the
 * jobs in flight.
 *
 * Unpartitioned (ALLOCATION_PARTITIONS=1), every worker takes from the one queue with prefetch
 * WORKER_CONCURRENCY. Partitioned, a worker consumes every partition's queue, one batch at a time
 * each (prefetch 2 × WORKER_BATCH_SIZE: one batch running, the next arriving), and the broker keeps
 * one consumer of each queue active (single active consumer). A worker holding more than its share
 * of the partitions (partitions / workers, rounded up) gives the surplus up: it cancels that
 * consumer after serving what it holds and subscribes again, at the back of the queue's line, so
 * the partition passes to a worker waiting for it. Nothing is lost or served twice on the way: a
 * message is acked only after its job committed, and a job is served once however often it arrives.
 */
export async function startAllocationWorker({ config, pool, logger, amqp }: WorkerDeps): Promise<Runner> {
  const log = logger.child({ component: 'allocation-worker' });
  const kept = await keepAllocationTopology(amqp, allocationQueuesOf(config), log);
  const partitioned = kept.partitions.length > 1;
  const publisher = await createPublisher(amqp, logger);

  // the work queues whose active consumer is this worker's: it has received from them since it subscribed
  const active = new Set<string>();
  const subscribe = (topology: AllocationTopology): Promise<BatchConsumer> => {
    const settler = jobSettler({ pool, config, publisher, topology, log });
    const handle = async (batch: Delivery[]): Promise<void> => {
      active.add(topology.work);
      // with tracing on: a span per job, continuing its message's trace, and one for the batch (src/tracing/trace-context.ts)
      const traced = startBatchTrace(
        topology.work,
        batch.map((delivery) => ({ allocationId: String(delivery.message.properties.messageId), parent: delivery.trace })),
      );
      if (traced) batch.forEach((delivery, index) => (delivery.trace = traced.jobs[index]));
      try {
        const served = await runWithin(traced?.batch, async () => {
          const settlement = settler.batch();
          const jobs = await serveJobMessages({ pool, config }, batch, settlement);
          await settlement.settle();
          return jobs;
        });
        // one line per job, written once its message is settled, in its job's trace
        for (const [allocationId, { outcome, delivery }] of served) {
          runWithin(delivery.trace, () =>
            log.info({ allocationId, outcome: outcome.kind, ...('status' in outcome ? { status: outcome.status } : {}) }, 'allocation job settled'),
          );
        }
        traced?.end();
      } catch (error) {
        traced?.fail(error);
        throw error;
      }
    };
    return consumeInBatches(
      amqp,
      logger,
      {
        queues: workQueues(topology),
        prefetch: partitioned ? 2 * config.WORKER_BATCH_SIZE : config.WORKER_CONCURRENCY,
        batchSize: config.WORKER_BATCH_SIZE,
        batchWaitMs: config.WORKER_BATCH_WAIT_MS,
        onCancelled: () => kept.redeclare(),
      },
      handle,
    );
  };

  const partitions: PartitionConsumer[] = [];
  for (const topology of kept.partitions) partitions.push({ topology, consumer: await subscribe(topology), releasing: false });

  const inspector = await keepChannel<Channel>(
    amqp,
    log,
    (model) => model.createChannel(),
    async () => {},
  );
  const queues = [
    ...new Set([
      ...kept.partitions.flatMap((topology) => [...workQueues(topology), ...topology.retries.map((retry) => retry.queue)]),
      kept.partitions[0]!.dead,
    ]),
  ];
  const depthTimer = setInterval(() => {
    const channel = inspector.current();
    if (!channel) return;
    void Promise.all(queues.map(async (queue) => queueDepth.set({ queue }, (await channel.checkQueue(queue)).messageCount))).catch(() => {});
  }, QUEUE_DEPTH_INTERVAL_MS);
  depthTimer.unref();

  let stopping = false;
  /** Gives up one partition beyond this worker's share, if it holds more than its share. */
  const rebalance = async (): Promise<void> => {
    const channel = inspector.current();
    if (!channel || stopping) return;
    // every worker subscribes to every partition, so a queue's consumers are the live workers
    const workers = Math.max(1, ...(await Promise.all(partitions.map(async ({ topology }) => (await channel.checkQueue(topology.work)).consumerCount))));
    const share = Math.ceil(partitions.length / workers);
    const held = partitions.filter((partition) => active.has(partition.topology.work) && !partition.releasing);
    if (held.length <= share) return;
    const surplus = held[held.length - 1]!;
    surplus.releasing = true;
    try {
      await surplus.consumer.stop();
      active.delete(surplus.topology.work);
      surplus.consumer = await subscribe(surplus.topology);
      log.info({ queue: surplus.topology.work, workers, share, held: held.length - 1 }, 'gave a partition up to another worker');
    } finally {
      surplus.releasing = false;
    }
  };
  let rebalancing: Promise<void> = Promise.resolve();
  const rebalanceTimer = partitioned
    ? setInterval(() => {
        rebalancing = rebalancing.then(rebalance).catch((error: unknown) => log.warn({ err: error }, 'could not rebalance the partitions'));
      }, REBALANCE_INTERVAL_MS)
    : null;
  rebalanceTimer?.unref();

  return {
    name: 'allocation-worker',
    async stop() {
      stopping = true;
      clearInterval(depthTimer);
      if (rebalanceTimer) clearInterval(rebalanceTimer);
      await rebalancing;
      await Promise.all(partitions.map((partition) => partition.consumer.stop()));
      await inspector.close();
      await publisher.close();
    },
  };
}
