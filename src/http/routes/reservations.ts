import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withTransaction } from '../../db/client';
import { allocateDirectly, allocateReservation } from '../../inventory/allocate';
import { extendReservation } from '../../inventory/extend';
import { releaseReservation } from '../../inventory/release';
import { reserveStock } from '../../inventory/reserve';
import { shipReservation } from '../../inventory/ship';
import { loadReservationDetail } from '../../inventory/transitions';
import {
  allocateBody,
  backorderedAnswerSchema,
  extendBody,
  releaseBody,
  reservationDetailSchema,
  reservationIdParams,
  reserveAnswerSchema,
  reserveBody,
  serveAnswerSchema,
  shipBody,
} from '../../schemas/reservations';
import { idempotencyKeySchema, runIdempotent, type IdempotentAnswer } from '../idempotency';
import { errorResponses } from '../openapi';
import type { AppDeps } from '../server';

const idempotencyHeaders = z.object({ 'idempotency-key': idempotencyKeySchema.optional() });
const allocateAnswerSchema = z.union([reservationDetailSchema, serveAnswerSchema]);

function send<T>(reply: FastifyReply, answer: IdempotentAnswer<T>) {
  if (answer.replayed) reply.header('idempotent-replayed', 'true');
  return reply.status(answer.status).send(answer.body);
}

/** The reservation lifecycle of SPEC section 3: reserve, release, allocate, ship, extend, and reading one. */
export function reservationRoutes(app: FastifyInstance, { pool, config }: AppDeps): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const context = (sub: string) => ({ now: new Date(), actor: sub, config });

  api.post('/inventory/reserve', {
    schema: {
      tags: ['reservations'],
      summary: 'Hold stock for an order',
      description: '201 with the reservation (and any shortfall or backorders), 202 when everything was backordered, 409 INSUFFICIENT_STOCK when it cannot be met.',
      headers: idempotencyHeaders,
      body: reserveBody,
      response: { 201: reserveAnswerSchema, 202: backorderedAnswerSchema, ...errorResponses(409) },
    },
  }, async (request, reply) => {
    const call = { operation: 'reserve', caller: request.caller, key: request.headers['idempotency-key'], body: request.body, response: serveAnswerSchema };
    return send(reply, await runIdempotent(pool, call, (tx) => reserveStock(tx, request.body, context(request.caller.sub))));
  });

  api.post('/inventory/release', {
    schema: { tags: ['reservations'], summary: 'Release a reservation', headers: idempotencyHeaders, body: releaseBody, response: { 200: reservationDetailSchema, ...errorResponses(409) } },
  }, async (request, reply) => {
    const call = { operation: 'release', caller: request.caller, key: request.headers['idempotency-key'], body: request.body, response: reservationDetailSchema };
    return send(reply, await runIdempotent(pool, call, async (tx) => ({ status: 200, body: await releaseReservation(tx, request.body, context(request.caller.sub)) })));
  });

  api.post('/inventory/allocate', {
    schema: {
      tags: ['reservations'],
      summary: 'Allocate a reservation (whole or in part), or allocate directly without one',
      description: 'With reservationId: 200 with the reservation. With orderId and items: as reserve, but the stock is committed (status ALLOCATED).',
      headers: idempotencyHeaders,
      body: allocateBody,
      response: { 200: reservationDetailSchema, 201: reserveAnswerSchema, 202: backorderedAnswerSchema, ...errorResponses(409) },
    },
  }, async (request, reply) => {
    const { body } = request;
    const ctx = context(request.caller.sub);
    const call = { operation: 'allocate', caller: request.caller, key: request.headers['idempotency-key'], body, response: allocateAnswerSchema };
    return send(
      reply,
      await runIdempotent(pool, call, async (tx) =>
        'reservationId' in body ? { status: 200, body: await allocateReservation(tx, body, ctx) } : allocateDirectly(tx, body, ctx),
      ),
    );
  });

  api.post('/inventory/ship', {
    schema: { tags: ['reservations'], summary: 'Ship allocated stock', headers: idempotencyHeaders, body: shipBody, response: { 200: reservationDetailSchema, ...errorResponses(409) } },
  }, async (request, reply) => {
    const call = { operation: 'ship', caller: request.caller, key: request.headers['idempotency-key'], body: request.body, response: reservationDetailSchema };
    return send(reply, await runIdempotent(pool, call, async (tx) => ({ status: 200, body: await shipReservation(tx, request.body, context(request.caller.sub)) })));
  });

  api.post('/inventory/reservations/:id/extend', {
    schema: { tags: ['reservations'], summary: 'Extend the hold of a reservation', params: reservationIdParams, body: extendBody, response: { 200: reservationDetailSchema, ...errorResponses(409) } },
  }, async (request) => withTransaction(pool, (tx) => extendReservation(tx, request.params.id, request.body, context(request.caller.sub))));

  api.get('/inventory/reservations/:id', {
    schema: { tags: ['reservations'], summary: 'A reservation with its lots and status history', params: reservationIdParams, response: { 200: reservationDetailSchema } },
  }, async (request) => loadReservationDetail(pool, request.params.id));
}
