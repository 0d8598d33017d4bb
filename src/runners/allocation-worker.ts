import type { Channel } from 'amqplib';
import { v7 as uuidv7 } from 'uuid';
import { keepChannel } from '../amqp/channels';
import { ackAll, consumeInBatches, type Delivery } from '../amqp/consumer';
import { createPublisher, type Publisher } from '../amqp/publisher';
import {
  ATTEMPTS_HEADER,
  FIRST_ERROR_HEADER,
  LAST_ERROR_HEADER,
  attemptsOf,
  keepAllocationTopology,
  retryQueueFor,
  type AllocationTopology,
} from '../amqp/topology';
import type { NewDeadLetter } from '../db/dead-letter-store';
import { deadLetterJobs, recordRetries, runAllocationJobs, type JobOutcome } from '../inventory/jobs/allocation-jobs';
import { UNPARSEABLE } from '../inventory/jobs/dead-letters';
import type { Logger } from '../logger';
import { jobRetries, queueDepth } from '../metrics';
import { allocationMessageSchema } from '../schemas/allocations';
import type { Config } from '../config';
import type { Pool } from 'pg';
import type { Runner, WorkerDeps } from './runner';

const QUEUE_DEPTH_INTERVAL_MS = 5000;

/** A delivery read: the job it names, or why it names none. */
type Received = { delivery: Delivery; allocationId: string | null; poison?: { reason: string; error: string; payload: unknown } };

function read(delivery: Delivery): Received {
  const text = delivery.message.content.toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return { delivery, allocationId: null, poison: { reason: UNPARSEABLE, error: `not JSON: ${(error as Error).message}`, payload: { raw: text } } };
  }
  const parsed = allocationMessageSchema.safeParse(body);
  if (!parsed.success) {
    const error = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'message'}: ${issue.message}`).join('; ');
    return { delivery, allocationId: null, poison: { reason: 'invalid_message', error, payload: body } };
  }
  return { delivery, allocationId: parsed.data.allocationId };
}

function headerText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Settles the deliveries of one batch after the jobs they name ran: ack, retry later, or dead-letter. */
class BatchSettler {
  private readonly retries: { received: Received; failures: number; error: string }[] = [];
  private readonly letters: { received: Received; letter: NewDeadLetter }[] = [];
  private readonly acks: Delivery[] = [];

  constructor(private readonly ctx: { pool: Pool; config: Config; publisher: Publisher; topology: AllocationTopology; log: Logger }) {}

  ack(delivery: Delivery): void {
    this.acks.push(delivery);
  }

  fail(received: Received, error: string, retryable: boolean): void {
    const failures = attemptsOf(received.delivery.message.properties.headers, this.ctx.topology) + 1;
    if (retryable && failures < this.ctx.config.JOB_MAX_ATTEMPTS) this.retries.push({ received, failures, error });
    else this.deadLetter(received, retryable ? 'retries_exhausted' : 'processing_failed', error, failures);
  }

  deadLetter(received: Received, reason: string, error: string, attempts?: number): void {
    const { message } = received.delivery;
    const headers = message.properties.headers ?? {};
    this.letters.push({
      received,
      letter: {
        id: uuidv7(),
        queue: this.ctx.topology.work,
        // a message naming no known job cannot point at one
        allocationId: reason === 'unknown_allocation' ? null : received.allocationId,
        reason,
        attempts: attempts ?? attemptsOf(headers, this.ctx.topology) + 1,
        firstError: headerText(headers[FIRST_ERROR_HEADER]) ?? error,
        lastError: error,
        payload: received.poison?.payload ?? JSON.parse(message.content.toString('utf8')),
        headers: {
          ...Object.fromEntries(Object.entries(headers).filter(([name]) => name.startsWith('stockroom-'))),
          messageId: message.properties.messageId ?? null,
          priority: message.properties.priority ?? null,
          redelivered: message.fields.redelivered,
        },
      },
    });
  }

  /** Republishes to a retry queue and acks only once the broker confirmed the copy. */
  private async retry(received: Received, failures: number, error: string): Promise<void> {
    const { message } = received.delivery;
    const headers = message.properties.headers ?? {};
    await this.ctx.publisher.publish(
      retryQueueFor(this.ctx.topology, this.ctx.config.JOB_RETRY_DELAYS_MS, failures),
      message.content,
      {
        messageId: (message.properties.messageId as string | undefined) ?? received.allocationId ?? uuidv7(),
        priority: message.properties.priority as number | undefined,
        headers: {
          [ATTEMPTS_HEADER]: failures,
          [FIRST_ERROR_HEADER]: headerText(headers[FIRST_ERROR_HEADER]) ?? error,
          [LAST_ERROR_HEADER]: error,
        },
      },
      this.ctx.config.PUBLISH_CONFIRM_TIMEOUT_MS,
    );
    received.delivery.ack();
  }

  async settle(): Promise<void> {
    ackAll(this.acks);

    if (this.letters.length > 0) {
      try {
        await deadLetterJobs(
          this.ctx.pool,
          this.letters.map((entry) => entry.letter),
        );
        // the broker keeps its own copy in the dead-letter queue
        for (const entry of this.letters) entry.received.delivery.reject();
      } catch (error) {
        // no record of them could be written (database away): keep them circulating until it is back
        this.ctx.log.warn({ err: error, count: this.letters.length }, 'could not record dead letters; retrying them later');
        const last = this.ctx.config.JOB_RETRY_DELAYS_MS.length;
        for (const entry of this.letters)
          this.retries.push({
            received: entry.received,
            failures: Math.min(entry.letter.attempts, last),
            error: entry.letter.lastError ?? entry.letter.reason,
          });
      }
    }

    if (this.retries.length > 0) {
      const bound = this.retries.filter((entry) => entry.received.allocationId !== null && !entry.received.poison);
      await recordRetries(
        this.ctx.pool,
        bound.map((entry) => ({ id: entry.received.allocationId!, error: entry.error })),
      ).catch((error: unknown) => this.ctx.log.warn({ err: error }, 'could not note failed attempts on the jobs'));
      const outcomes = await Promise.allSettled(this.retries.map((entry) => this.retry(entry.received, entry.failures, entry.error)));
      jobRetries.inc(outcomes.filter((outcome) => outcome.status === 'fulfilled').length);
      const lost = outcomes.filter((outcome) => outcome.status === 'rejected').length;
      // unacked, they come back from the broker when this channel closes
      if (lost > 0) this.ctx.log.warn({ count: lost }, 'could not publish retries; leaving the messages unacknowledged');
    }
  }
}

function settleOutcome(settler: BatchSettler, received: Received, outcome: JobOutcome): void {
  switch (outcome.kind) {
    case 'finished':
    case 'already_finished':
      settler.ack(received.delivery);
      break;
    case 'unknown':
      settler.deadLetter(received, 'unknown_allocation', `no allocation ${received.allocationId}`);
      break;
    case 'invalid':
      settler.deadLetter(received, 'invalid_request', outcome.error);
      break;
    case 'failed':
      settler.fail(received, outcome.error, outcome.retryable);
  }
}

/**
 * The allocation worker: consumes the job queue in batches (prefetch WORKER_CONCURRENCY, up to
 * WORKER_BATCH_SIZE jobs per transaction), acks after commit, sends transient failures through the
 * retry queues and dead-letters what cannot succeed. Stopping cancels the consumer and finishes
 * (and acks) the jobs in flight.
 */
export async function startAllocationWorker({ config, pool, logger, amqp }: WorkerDeps): Promise<Runner> {
  const log = logger.child({ component: 'allocation-worker' });
  const { topology } = await keepAllocationTopology(amqp, config.ALLOCATION_QUEUE, config.JOB_RETRY_DELAYS_MS, log);
  const publisher = await createPublisher(amqp, logger);

  const handle = async (batch: Delivery[]): Promise<void> => {
    const settler = new BatchSettler({ pool, config, publisher, topology, log });
    const received = batch.map(read);
    for (const entry of received) if (entry.poison) settler.deadLetter(entry, entry.poison.reason, entry.poison.error);
    const ids = [...new Set(received.filter((entry) => !entry.poison).map((entry) => entry.allocationId!))];
    const outcomes = ids.length > 0 ? await runAllocationJobs(pool, config, ids) : new Map<string, JobOutcome>();
    for (const entry of received) if (!entry.poison) settleOutcome(settler, entry, outcomes.get(entry.allocationId!)!);
    await settler.settle();
    // one line per job, written once its message is settled
    for (const [allocationId, outcome] of outcomes) {
      log.info({ allocationId, outcome: outcome.kind, ...('status' in outcome ? { status: outcome.status } : {}) }, 'allocation job settled');
    }
  };

  const consumer = await consumeInBatches(
    amqp,
    logger,
    { queue: topology.work, prefetch: config.WORKER_CONCURRENCY, batchSize: config.WORKER_BATCH_SIZE, batchWaitMs: config.WORKER_BATCH_WAIT_MS },
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
