import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { IdempotentAnswer } from '../inventory/idempotency';
import { idempotencyKeyText } from '../schemas/common';

/** The Idempotency-Key header: printable, at most 200 characters. */
export const idempotencyKeySchema = idempotencyKeyText.describe(
  'Kept IDEMPOTENCY_RETENTION_HOURS (24 h) per caller and call: a repeat with the same body gets the first answer again, a refusal the call ran into (404, 409) included, with idempotent-replayed: true; another body gets 422. A 400 keeps nothing.',
);

/** The optional Idempotency-Key header of a state-changing call. */
export const idempotencyHeaders = z.object({ 'idempotency-key': idempotencyKeySchema.optional() });

/**
 * Sends an answer with its status; a replayed one says so in the idempotent-replayed header. An
 * answer kept under a key goes as the JSON it was kept as, which its schema encoded already; any
 * other is encoded by the route's response schema.
 */
export function sendAnswer<T>(reply: FastifyReply, answer: IdempotentAnswer<T>): FastifyReply {
  if (answer.replayed) reply.header('idempotent-replayed', 'true');
  reply.status(answer.status);
  // the content type fastify gives the JSON it serializes
  return answer.json === undefined ? reply.send(answer.body) : reply.type('application/json; charset=utf-8').send(answer.json);
}
