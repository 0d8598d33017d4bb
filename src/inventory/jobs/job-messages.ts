/** What the allocation worker does with a batch of job messages: run the jobs they name and settle each message by its job's outcome. */
import type { Pool } from 'pg';
import type { Delivery } from '../../amqp/consumer';
import type { Publisher } from '../../amqp/publisher';
import { createSettler, readMessage, type Settlement } from '../../amqp/settle';
import type { AllocationTopology } from '../../amqp/topology';
import type { Config } from '../../config';
import type { Logger } from '../../logger';
import { jobRetries } from '../../metrics';
import { allocationMessageSchema } from '../../schemas/allocations';
import { traceparentOf } from '../../tracing/trace-context';
import { deadLetterJobs, recordRetries, runAllocationJobs, type JobOutcome } from './allocation-jobs';

/** The settler of the allocation queue: dead letters mark their jobs dead_lettered, retries note the failed attempt on their job. */
export function jobSettler(ctx: { pool: Pool; config: Config; publisher: Publisher; topology: AllocationTopology; log: Logger }): { batch(): Settlement } {
  const { pool, config } = ctx;
  return createSettler({
    topology: ctx.topology,
    publisher: ctx.publisher,
    maxAttempts: config.JOB_MAX_ATTEMPTS,
    retryDelaysMs: config.JOB_RETRY_DELAYS_MS,
    confirmTimeoutMs: config.PUBLISH_CONFIRM_TIMEOUT_MS,
    log: ctx.log,
    keep: (letters) => deadLetterJobs(pool, letters),
    noteRetries: (retries) =>
      recordRetries(
        pool,
        retries.flatMap(({ allocationId, error }) => (allocationId === null ? [] : [{ id: allocationId, error }])),
      ),
    countRetries: (published) => jobRetries.inc(published),
  });
}

/** What became of one job of a batch, and the delivery of its message (the first, when it came twice). */
export type ServedJob = { outcome: JobOutcome; delivery: Delivery };

/**
 * Reads each message (a poison one, or one at its last delivery, is dead-lettered at once), runs the jobs they name together
 * (runAllocationJobs: one transaction for the batch; each job's events continue its delivery's
 * trace), and settles each message: acked when its job finished now or before, dead-lettered when
 * it names no job or an invalid one, retried or dead-lettered when the attempt failed. Returns
 * each job's outcome and delivery, by id.
 */
export async function serveJobMessages(
  ctx: { pool: Pool; config: Config },
  batch: readonly Delivery[],
  settlement: Settlement,
): Promise<Map<string, ServedJob>> {
  const named: { delivery: Delivery; allocationId: string }[] = [];
  for (const delivery of batch) {
    const read = readMessage(delivery.message.content, allocationMessageSchema, 'invalid_message');
    if (!read.ok) settlement.deadLetter(delivery, read);
    else if (!settlement.deadLetterAtLimit(delivery, { payload: read.value, allocationId: read.value.allocationId })) {
      named.push({ delivery, allocationId: read.value.allocationId });
    }
  }
  const firstDelivery = new Map<string, Delivery>();
  const traceparents = new Map<string, string>();
  for (const { delivery, allocationId } of named) {
    if (firstDelivery.has(allocationId)) continue;
    firstDelivery.set(allocationId, delivery);
    const traceparent = delivery.trace && traceparentOf(delivery.trace);
    if (traceparent) traceparents.set(allocationId, traceparent);
  }
  const ids = [...firstDelivery.keys()];
  const outcomes = ids.length > 0 ? await runAllocationJobs(ctx.pool, ctx.config, ids, traceparents) : new Map<string, JobOutcome>();
  for (const { delivery, allocationId } of named) {
    const outcome = outcomes.get(allocationId)!;
    const payload = { allocationId };
    switch (outcome.kind) {
      case 'finished':
      case 'already_finished':
        settlement.ack(delivery);
        break;
      case 'unknown':
        // a message naming no known job cannot point at one
        settlement.deadLetter(delivery, { reason: 'unknown_allocation', error: `no allocation ${allocationId}`, payload });
        break;
      case 'invalid':
        settlement.deadLetter(delivery, { reason: 'invalid_request', error: outcome.error, payload, allocationId });
        break;
      case 'failed':
        settlement.fail(delivery, { error: outcome.error, retryable: outcome.retryable, payload, allocationId });
    }
  }
  return new Map(ids.map((id) => [id, { outcome: outcomes.get(id)!, delivery: firstDelivery.get(id)! }]));
}
