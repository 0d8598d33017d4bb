import type { Pool } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { PublishError, type Publisher } from '../../amqp/publisher';
import { UNPARSEABLE } from '../../amqp/settle';
import { requeueAllocation } from '../../db/allocation-store';
import { withTransaction } from '../../db/client';
import { deleteDeadLetter, findDeadLetter, listDeadLetters as listStored, lockDeadLetter, markDeadLetterReplayed } from '../../db/dead-letter-store';
import type { Config } from '../../config';
import { AppError, notFound } from '../../errors';
import type { DeadLetter } from '../../schemas/allocations';
import type { AllocationDispatcher } from './allocation-dispatch';

export type DeadLetterDeps = { pool: Pool; dispatcher: AllocationDispatcher; publisher: Publisher | null; config: Config };

/** Dead letters, newest first. */
export async function listDeadLetters(pool: Pool, filter: { status?: DeadLetter['status']; limit: number; offset: number }): Promise<DeadLetter[]> {
  return listStored(pool, filter);
}

/** One dead letter with its errors and payload. */
export async function getDeadLetter(pool: Pool, id: string): Promise<DeadLetter> {
  return (await findDeadLetter(pool, id)) ?? Promise.reject(notFound('Dead letter', id));
}

/** The bytes a dead letter was received as. */
function originalBody(letter: DeadLetter): Buffer {
  if (letter.reason === UNPARSEABLE && typeof letter.payload === 'object' && letter.payload !== null && 'raw' in letter.payload) {
    return Buffer.from(String(letter.payload.raw));
  }
  return Buffer.from(JSON.stringify(letter.payload));
}

/**
 * Sends a dead letter back to the queue it came from (the allocation queue, or an event consumer's
 * queue) with a fresh count of attempts. A letter of a known job
 * sets the job back to queued in the same transaction and is published after it (or by the relay);
 * a letter of no known job is published inside the transaction, so a broker outage leaves it open.
 */
export async function replayDeadLetter(deps: DeadLetterDeps, id: string): Promise<DeadLetter> {
  const { letter, job } = await withTransaction(deps.pool, async (tx) => {
    const found = await lockDeadLetter(tx, id);
    if (!found) throw notFound('Dead letter', id);
    if (found.status !== 'open') throw new AppError('INVALID_TRANSITION', `Dead letter ${id} was already replayed`);
    const requeued = found.allocationId ? await requeueAllocation(tx, found.allocationId) : undefined;
    if (!found.allocationId) {
      if (!deps.publisher) throw new AppError('DEPENDENCY_UNAVAILABLE', 'RabbitMQ is unavailable; try again shortly');
      try {
        await deps.publisher.publish(found.queue, originalBody(found), { messageId: uuidv7() }, deps.config.PUBLISH_CONFIRM_TIMEOUT_MS);
      } catch (error) {
        if (error instanceof PublishError) throw new AppError('DEPENDENCY_UNAVAILABLE', 'RabbitMQ is unavailable; try again shortly');
        throw error;
      }
    }
    return { letter: await markDeadLetterReplayed(tx, id), job: requeued };
  });
  if (job) await deps.dispatcher.dispatch([job]);
  return letter;
}

/** Deletes a dead letter for good. */
export async function purgeDeadLetter(pool: Pool, id: string): Promise<void> {
  if (!(await deleteDeadLetter(pool, id))) throw notFound('Dead letter', id);
}
