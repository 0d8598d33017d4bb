import type { Pool } from 'pg';
import { newId } from '../../ids';
import { PublishError, type Publisher } from '../../amqp/publisher';
import { BODY_BASE64_HEADER, UNPARSEABLE } from '../../amqp/settle';
import { requeueAllocation } from '../../db/allocation-store';
import { withTransaction } from '../../db/client';
import {
  countDeadLetters,
  deleteDeadLetters,
  findDeadLetter,
  listDeadLetters as listStored,
  lockDeadLetter,
  markDeadLetterReplayed,
  type DeadLetterSelection,
} from '../../db/dead-letter-store';
import type { Config } from '../../config';
import { AppError, notFound } from '../../errors';
import { PUBLISHER_HEADER, publisherHeaders } from '../../events/publishers';
import {
  bulkDeadLetterLimit,
  type BulkDeadLetterAnswer,
  type BulkDeadLetterSelection,
  type DeadLetter,
  type DeadLetterSearch,
} from '../../schemas/allocations';
import type { AllocationDispatcher } from './allocation-dispatch';

export type DeadLetterDeps = { pool: Pool; dispatcher: AllocationDispatcher; publisher: Publisher | null; config: Config };

/** The selection a search or a bulk call names, without its paging and options. */
function selectionOf(query: Omit<DeadLetterSearch, 'limit' | 'cursor'> & { ids?: string[] | undefined }): DeadLetterSelection {
  return {
    ...(query.ids === undefined ? {} : { ids: query.ids }),
    ...(query.status === undefined ? {} : { status: query.status }),
    ...(query.reason === undefined ? {} : { reason: query.reason }),
    ...(query.queue === undefined ? {} : { queue: query.queue }),
    ...(query.from === undefined ? {} : { from: query.from }),
    ...(query.to === undefined ? {} : { to: query.to }),
  };
}

/** One page of dead letters matching a search, newest first; `nextCursor` fetches the page after it. */
export async function listDeadLetters(pool: Pool, query: DeadLetterSearch): Promise<{ items: DeadLetter[]; nextCursor: string | null }> {
  const rows = await listStored(pool, selectionOf(query), { limit: query.limit + 1, ...(query.cursor === undefined ? {} : { afterId: query.cursor }) });
  const page = rows.slice(0, query.limit);
  return { items: page, nextCursor: rows.length > query.limit ? page.at(-1)!.id : null };
}

/** One dead letter with its errors and payload. */
export async function getDeadLetter(pool: Pool, id: string): Promise<DeadLetter> {
  return (await findDeadLetter(pool, id)) ?? Promise.reject(notFound('Dead letter', id));
}

/** The bytes a dead letter was received as: kept exactly when it had to be escaped to be stored. */
function originalBody(letter: DeadLetter): Buffer {
  const exact = letter.headers[BODY_BASE64_HEADER];
  if (typeof exact === 'string') return Buffer.from(exact, 'base64');
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
        // an event keeps the publisher it first came from (Stockroom's own user_id vouches for the header)
        const publisher = found.headers[PUBLISHER_HEADER];
        await deps.publisher.publish(
          found.queue,
          originalBody(found),
          { messageId: newId(), headers: publisherHeaders(typeof publisher === 'string' ? publisher : null) },
          deps.config.PUBLISH_CONFIRM_TIMEOUT_MS,
        );
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
  if ((await deleteDeadLetters(pool, { ids: [id] }, 1)).length === 0) throw notFound('Dead letter', id);
}

/**
 * Replays the open dead letters of a selection (named by ids, or by filter), newest first and at
 * most 500 per call, each as `replayDeadLetter` does; one that cannot be replayed is reported and
 * the others go on. A dry run counts and lists what would be replayed and changes nothing.
 */
export async function replayDeadLetters(deps: DeadLetterDeps, body: BulkDeadLetterSelection): Promise<BulkDeadLetterAnswer> {
  const selection: DeadLetterSelection = { ...selectionOf(body), status: 'open' };
  const matched = await countDeadLetters(deps.pool, selection);
  const chosen = await listStored(deps.pool, selection, { limit: bulkDeadLetterLimit });
  if (body.dryRun) return { dryRun: true, matched, done: 0, remaining: matched, items: chosen.map((letter) => ({ id: letter.id, outcome: 'would_replay' })) };
  const items: BulkDeadLetterAnswer['items'] = [];
  for (const letter of chosen) {
    try {
      await replayDeadLetter(deps, letter.id);
      items.push({ id: letter.id, outcome: 'replayed' });
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      items.push({ id: letter.id, outcome: 'failed', error: { code: error.code, message: error.message } });
      // The broker is away: the next letters would wait for it too; they stay open and count as remaining.
      if (error.code === 'DEPENDENCY_UNAVAILABLE') break;
    }
  }
  const done = items.filter((item) => item.outcome === 'replayed').length;
  return { dryRun: false, matched, done, remaining: await countDeadLetters(deps.pool, selection), items };
}

/** Purges the dead letters of a selection (any status unless named), newest first and at most 500 per call; a dry run only counts and lists them. */
export async function purgeDeadLetters(pool: Pool, body: BulkDeadLetterSelection): Promise<BulkDeadLetterAnswer> {
  const selection = selectionOf(body);
  const matched = await countDeadLetters(pool, selection);
  if (body.dryRun) {
    const chosen = await listStored(pool, selection, { limit: bulkDeadLetterLimit });
    return { dryRun: true, matched, done: 0, remaining: matched, items: chosen.map((letter) => ({ id: letter.id, outcome: 'would_purge' })) };
  }
  const purged = await deleteDeadLetters(pool, selection, bulkDeadLetterLimit);
  return {
    dryRun: false,
    matched,
    done: purged.length,
    remaining: await countDeadLetters(pool, selection),
    items: purged.map((id) => ({ id, outcome: 'purged' })),
  };
}
