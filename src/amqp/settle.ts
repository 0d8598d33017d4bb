/**
 * The one way a consumed message is settled, for the allocation worker and the event consumers
 * alike: read it (or find it poison), then per batch ack what is done, send what may pass later
 * through a retry queue, and dead-let what never will — kept for operators (a dead_letters row)
 * and copied to the queue's dead-letter queue with its reason. A message is acknowledged only once
 * its fate is safe: the retry or dead copy confirmed by the broker, the dead letter committed.
 */
import { isUtf8 } from 'node:buffer';
import type { MessagePropertyHeaders } from 'amqplib';
import { newId } from '../ids';
import type { z } from 'zod';
import { isTransientDatabaseError } from '../db/pg-errors';
import { escapeUnstorable, storableJson } from '../domain/storable-text';
import type { Logger } from '../logger';
import { deadLettersTotal, deadLettersUnrecorded } from '../metrics';
import { runIsolated } from '../micro-batcher';
import { runWithin } from '../tracing/trace-context';
import { ackAll, type Delivery } from './consumer';
import type { Publisher } from './publisher';
import { ATTEMPTS_HEADER, FIRST_ERROR_HEADER, LAST_ERROR_HEADER, attemptsOf, retryQueueFor, type AllocationTopology } from './topology';

/** Why a message was dead-lettered, on the copy in the dead-letter queue. */
export const REASON_HEADER = 'stockroom-reason';
const EXCHANGE_HEADER = 'stockroom-exchange';
const ROUTING_KEY_HEADER = 'stockroom-routing-key';

/**
 * The reason a message is dead-lettered with at its last delivery: a quorum queue delivers a
 * message at most ALLOCATION_DELIVERY_LIMIT + 1 times, counting the deliveries that came back
 * unsettled (its consumer died each time), and drops it, unrecorded, after the last.
 */
export const DELIVERY_LIMIT = 'delivery_limit';

/** The broker's count of a message's earlier deliveries that came back unsettled (quorum queues). */
const DELIVERY_COUNT_HEADER = 'x-delivery-count';

/** The reason a message that is not JSON is dead-lettered with; its text is kept as `{ raw }`. */
export const UNPARSEABLE = 'unparseable';

/**
 * The header of a dead letter whose message had to be changed to be stored (text Postgres refuses,
 * escaped; or a body that is not UTF-8): the exact bytes received, in base64. A replay sends them.
 */
export const BODY_BASE64_HEADER = 'bodyBase64';

/** A message read: its value, or why it carries none (never worth retrying). */
export type ReadMessage<T> = { ok: true; value: T } | { ok: false; reason: string; error: string; payload: unknown };

/** Parses a message body as JSON and checks it against `schema`; `invalidReason` names a well-formed body the schema refuses. */
export function readMessage<T>(body: Buffer, schema: z.ZodType<T>, invalidReason: string): ReadMessage<T> {
  const text = body.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: UNPARSEABLE, error: `not JSON: ${error instanceof Error ? error.message : String(error)}`, payload: { raw: text } };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const error = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'message'}: ${issue.message}`).join('; ');
  return { ok: false, reason: invalidReason, error, payload: json };
}

/** A message given up on, as kept for operators to inspect, replay (back to `queue`) or purge. */
export type DeadLetterRecord = {
  id: string;
  queue: string;
  /** the allocation job the message names, when it names a known one */
  allocationId: string | null;
  reason: string;
  attempts: number;
  firstError: string | null;
  lastError: string;
  payload: unknown;
  headers: Record<string, unknown>;
};

/** How one consumer's messages are settled. */
export type SettlerOptions = {
  topology: AllocationTopology;
  publisher: Publisher;
  maxAttempts: number;
  retryDelaysMs: readonly number[];
  confirmTimeoutMs: number;
  log: Logger;
  /**
   * Keeps dead letters (one transaction). When the database is away the messages circulate through
   * the retry queues until it is back; when it refuses a letter, each is kept alone so the others go on.
   */
  keep(letters: readonly DeadLetterRecord[]): Promise<void>;
  /** Notes, before they are republished, which messages wait for a retry and why (the worker marks their jobs). */
  noteRetries?(retries: readonly { allocationId: string | null; error: string }[]): Promise<void>;
  /** Counts the retries the broker confirmed (the allocation worker's metric). */
  countRetries?(published: number): void;
  /** Headers every copy of a message (retry, dead letter) and its dead_letters row carry: the event consumers name its publisher. */
  originOf?(delivery: Delivery): MessagePropertyHeaders;
};

/** What a message failed with: `retryable` when running it again may succeed; `reason` names a final refusal. */
export type Failure = { error: string; retryable: boolean; reason?: string; payload: unknown; allocationId?: string | null };

/** The settling of one batch of deliveries: say what became of each, then settle() once. */
export type Settlement = {
  ack(delivery: Delivery): void;
  /** Tries again later (a retry queue) while attempts remain and the failure may pass; dead-letters otherwise. */
  fail(delivery: Delivery, failure: Failure): void;
  /** Gives up at once: the message can never succeed. */
  deadLetter(delivery: Delivery, letter: { reason: string; error: string; payload: unknown; allocationId?: string | null }): void;
  /**
   * Dead-letters the message with reason delivery_limit, without serving it, when this is its last
   * delivery (quorum queues): whatever killed its consumer every time would do it again, and one
   * more return would have the broker drop it. True when it did.
   */
  deadLetterAtLimit(delivery: Delivery, letter: { payload: unknown; allocationId?: string | null }): boolean;
  settle(): Promise<void>;
};

function headerText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Where the broker first delivered a message; a retried copy carries it in headers, as it returns through the default exchange. */
function originOf(message: Delivery['message']): { exchange: string; routingKey: string } {
  const headers = message.properties.headers ?? {};
  return {
    exchange: headerText(headers[EXCHANGE_HEADER]) ?? message.fields.exchange,
    routingKey: headerText(headers[ROUTING_KEY_HEADER]) ?? message.fields.routingKey,
  };
}

type Retry = { delivery: Delivery; failures: number; error: string; allocationId: string | null };
type Letter = { delivery: Delivery; record: DeadLetterRecord };

/** A settler for one consumer; `batch()` starts the settling of one batch of its deliveries. */
export function createSettler(options: SettlerOptions): { batch(): Settlement } {
  const { topology, publisher, log } = options;
  const headersOf = (delivery: Delivery): MessagePropertyHeaders => delivery.message.properties.headers ?? {};
  const messageIdOf = (delivery: Delivery, payload: unknown): string => {
    const own: unknown = delivery.message.properties.messageId;
    return typeof own === 'string' ? own : ((payload as { eventId?: string } | null)?.eventId ?? newId());
  };

  /**
   * Publishes a copy to `queue` (through `exchange`, when given) with our headers and acks the
   * original once the broker confirmed it; the copy carries the delivery's trace context on.
   */
  const forward = async (queue: string, delivery: Delivery, headers: MessagePropertyHeaders, payload: unknown, exchange?: string): Promise<void> => {
    const { message } = delivery;
    await runWithin(delivery.trace, () =>
      publisher.publish(
        queue,
        message.content,
        {
          ...(exchange === undefined ? {} : { exchange }),
          messageId: messageIdOf(delivery, payload),
          ...(message.properties.priority === undefined ? {} : { priority: message.properties.priority as number }),
          headers: {
            ...options.originOf?.(delivery),
            ...headers,
            [EXCHANGE_HEADER]: originOf(message).exchange,
            [ROUTING_KEY_HEADER]: originOf(message).routingKey,
          },
        },
        options.confirmTimeoutMs,
      ),
    );
    delivery.ack();
  };

  /** The dead letter of a message, in a form Postgres stores: NUL and lone surrogates escaped, the exact bytes kept when anything changed. */
  const letterOf = (
    delivery: Delivery,
    letter: { reason: string; error: string; payload: unknown; allocationId?: string | null },
    attempts: number,
  ): Letter => {
    const { message } = delivery;
    const headers = headersOf(delivery);
    const payload = storableJson(letter.payload);
    const keepBytes = payload.escaped || !isUtf8(message.content);
    const firstError = headerText(headers[FIRST_ERROR_HEADER]) ?? letter.error;
    return {
      delivery,
      record: {
        id: newId(),
        // the queue it came from: for quorum allocation queues, its priority level's
        queue: delivery.queue,
        allocationId: letter.allocationId ?? null,
        reason: letter.reason,
        attempts,
        firstError: escapeUnstorable(firstError),
        lastError: escapeUnstorable(letter.error),
        payload: payload.value,
        headers: storableJson({
          ...Object.fromEntries(Object.entries(headers).filter(([name]) => name.startsWith('stockroom-'))),
          ...options.originOf?.(delivery),
          messageId: (message.properties.messageId as unknown) ?? null,
          priority: (message.properties.priority as unknown) ?? null,
          ...originOf(message),
          redelivered: message.fields.redelivered,
          ...(keepBytes ? { [BODY_BASE64_HEADER]: message.content.toString('base64') } : {}),
        }).value as Record<string, unknown>,
      },
    };
  };

  return {
    batch() {
      const acks: Delivery[] = [];
      const retries: Retry[] = [];
      const letters: Letter[] = [];
      const payloads = new Map<Delivery, unknown>();

      const deadLetter: Settlement['deadLetter'] = (delivery, letter) => {
        payloads.set(delivery, letter.payload);
        letters.push(letterOf(delivery, letter, attemptsOf(headersOf(delivery), topology) + 1));
      };

      return {
        ack: (delivery) => void acks.push(delivery),
        deadLetter,
        deadLetterAtLimit(delivery, letter) {
          const limit = topology.quorum?.deliveryLimit;
          const before = Number(headersOf(delivery)[DELIVERY_COUNT_HEADER] ?? 0);
          if (limit === undefined || !(before >= limit)) return false;
          deadLetter(delivery, {
            ...letter,
            reason: DELIVERY_LIMIT,
            error: `delivered ${before + 1} times, the last ${before} without being settled (its consumer went away each time); the delivery limit is ${limit + 1}`,
          });
          return true;
        },
        fail(delivery, failure) {
          const failures = attemptsOf(headersOf(delivery), topology) + 1;
          payloads.set(delivery, failure.payload);
          if (failure.retryable && failures < options.maxAttempts) {
            runWithin(delivery.trace, () =>
              log.info(
                { allocationId: failure.allocationId ?? null, error: failure.error, attempt: failures, messageId: delivery.message.properties.messageId },
                'message failed; trying again later',
              ),
            );
            retries.push({ delivery, failures, error: failure.error, allocationId: failure.allocationId ?? null });
          } else {
            const reason = failure.reason ?? (failure.retryable ? 'retries_exhausted' : 'processing_failed');
            letters.push(letterOf(delivery, { ...failure, reason }, failures));
          }
        },

        async settle() {
          ackAll(acks);

          if (letters.length > 0) {
            // one transaction for the batch's letters; a letter the database refuses is kept apart from the others
            const kept = await runIsolated(
              letters,
              async (batch) => {
                await options.keep(batch.map((letter) => letter.record));
                return batch.map(() => ({ ok: true as const, value: true }));
              },
              (error) => !isTransientDatabaseError(error),
            );
            const last = options.retryDelaysMs.length;
            await Promise.all(
              letters.map(({ delivery, record }, index) =>
                // its log lines and its copy belong to the trace the message continues
                runWithin(delivery.trace, async () => {
                  const outcome = kept[index]!;
                  // every line about a letter names its job (when it names a known one), its message and its reason
                  const about = {
                    allocationId: record.allocationId,
                    messageId: (delivery.message.properties.messageId as unknown) ?? null,
                    reason: record.reason,
                  };
                  if (!outcome.ok && isTransientDatabaseError(outcome.error)) {
                    // no record of it could be written (database away): keep it circulating until it is back
                    log.warn({ err: outcome.error, ...about }, 'could not record a dead letter; retrying it later');
                    retries.push({ delivery, failures: Math.min(record.attempts, last), error: record.lastError, allocationId: record.allocationId });
                    return;
                  }
                  if (outcome.ok) log.warn({ ...about, error: record.lastError, attempts: record.attempts, queue: record.queue }, 'message dead-lettered');
                  // a letter the database refuses even escaped would fail the same way forever: only the dead-letter queue keeps it
                  else {
                    deadLettersUnrecorded.inc({ queue: delivery.queue });
                    log.error(
                      { err: outcome.error, ...about, queue: record.queue },
                      'message dead-lettered without a dead_letters row: the database refused it',
                    );
                  }
                  deadLettersTotal.inc({ queue: delivery.queue, reason: record.reason });
                  const headers = {
                    [REASON_HEADER]: record.reason,
                    [ATTEMPTS_HEADER]: record.attempts,
                    [FIRST_ERROR_HEADER]: record.firstError ?? record.lastError,
                    [LAST_ERROR_HEADER]: record.lastError,
                  };
                  try {
                    await forward(topology.dead, delivery, headers, payloads.get(delivery));
                  } catch (failure) {
                    // the queue's own dead-letter target takes it, without the reason header
                    log.warn({ err: failure, ...about }, 'could not publish to the dead-letter queue; rejecting instead');
                    delivery.reject();
                  }
                }),
              ),
            );
          }

          if (retries.length > 0) {
            await options
              .noteRetries?.(retries.map(({ allocationId, error }) => ({ allocationId, error: escapeUnstorable(error) })))
              .catch((error: unknown) => log.warn({ err: error }, 'could not note the failed attempts'));
            const outcomes = await Promise.allSettled(
              retries.map(({ delivery, failures, error }) => {
                const retry = retryQueueFor(topology, options.retryDelaysMs, failures);
                const headers = {
                  [ATTEMPTS_HEADER]: failures,
                  [FIRST_ERROR_HEADER]: headerText(headersOf(delivery)[FIRST_ERROR_HEADER]) ?? error,
                  [LAST_ERROR_HEADER]: error,
                };
                // through a retry exchange, the copy names the queue it goes back to (its priority level's)
                return retry.exchange === undefined
                  ? forward(retry.queue, delivery, headers, payloads.get(delivery))
                  : forward(delivery.queue, delivery, headers, payloads.get(delivery), retry.exchange);
              }),
            );
            options.countRetries?.(outcomes.filter((outcome) => outcome.status === 'fulfilled').length);
            const lost = outcomes.filter((outcome) => outcome.status === 'rejected').length;
            // unacked, they come back from the broker when their channel closes
            if (lost > 0) log.warn({ count: lost }, 'could not publish retries; leaving the messages unacknowledged');
          }
        },
      };
    },
  };
}
