import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withTransaction } from '../../db/client';
import { allocateReservation } from '../../inventory/reservations/allocate';
import { extendReservation } from '../../inventory/reservations/extend';
import { runIdempotent, type IdempotentAnswer } from '../../inventory/idempotency';
import { releaseReservation } from '../../inventory/reservations/release';
import { checkReserveInput } from '../../inventory/reservations/reserve';
import { createServeBatcher } from '../../inventory/reservations/serve-batcher';
import { shipReservation } from '../../inventory/reservations/ship';
import { findReservations } from '../../inventory/reservations/lookup';
import { loadReservationDetail } from '../../inventory/reservations/transitions';
import {
  allocateBody,
  backorderedAnswerSchema,
  extendBody,
  listReservationsQuery,
  releaseBody,
  reservationPageSchema,
  reservationDetailSchema,
  reservationIdParams,
  reserveAnswerSchema,
  reserveBody,
  serveAnswerSchema,
  shipBody,
} from '../../schemas/reservations';
import { idempotencyKeySchema } from '../idempotency';
import { errorResponses } from '../openapi';
import type { AppDeps } from '../app-deps';

const idempotencyHeaders = z.object({ 'idempotency-key': idempotencyKeySchema.optional() });

function send<T>(reply: FastifyReply, answer: IdempotentAnswer<T>) {
  if (answer.replayed) reply.header('idempotent-replayed', 'true');
  return reply.status(answer.status).send(answer.body);
}

/**
 * The reservation lifecycle of SPEC section 3: reserve, release, allocate, ship, extend, and reading
 * one. Reserves and direct allocations go through this app's serve batcher, built here and drained
 * when the app closes, which combines the calls that arrive together into one transaction.
 */
export function reservationRoutes(app: FastifyInstance, { pool, config }: AppDeps): void {
  const serveBatcher = createServeBatcher(pool, config, { maxBatch: config.SYNC_BATCH_SIZE, maxInFlight: config.SYNC_BATCHES_IN_FLIGHT });
  app.addHook('onClose', () => serveBatcher.close());
  const api = app.withTypeProvider<ZodTypeProvider>();
  const context = (sub: string) => ({ now: new Date(), actor: sub, config });

  api.post(
    '/inventory/reserve',
    {
      schema: {
        tags: ['reservations'],
        summary: 'Hold stock for an order',
        description:
          '201 with the reservation (and any shortfall or backorders), 202 when everything was backordered, 409 INSUFFICIENT_STOCK when it cannot be met.',
        headers: idempotencyHeaders,
        body: reserveBody,
        response: { 201: reserveAnswerSchema, 202: backorderedAnswerSchema, ...errorResponses(409) },
      },
    },
    async (request, reply) => {
      checkReserveInput(request.body, config);
      const call = { operation: 'reserve', caller: request.caller, key: request.headers['idempotency-key'], body: request.body, response: serveAnswerSchema };
      return send(reply, await serveBatcher.serve({ order: { mode: 'reserve', input: request.body, actor: request.caller.sub }, call }));
    },
  );

  api.post(
    '/inventory/release',
    {
      schema: {
        tags: ['reservations'],
        summary: 'Release a reservation',
        headers: idempotencyHeaders,
        body: releaseBody,
        response: { 200: reservationDetailSchema, ...errorResponses(409) },
      },
    },
    async (request, reply) => {
      const call = {
        operation: 'release',
        caller: request.caller,
        key: request.headers['idempotency-key'],
        body: request.body,
        response: reservationDetailSchema,
      };
      return send(
        reply,
        await runIdempotent(pool, call, async (tx) => ({ status: 200, body: await releaseReservation(tx, request.body, context(request.caller.sub)) })),
      );
    },
  );

  api.post(
    '/inventory/allocate',
    {
      schema: {
        tags: ['reservations'],
        summary: 'Allocate a reservation (whole or in part), or allocate directly without one',
        description: 'With reservationId: 200 with the reservation. With orderId and items: as reserve, but the stock is committed (status ALLOCATED).',
        headers: idempotencyHeaders,
        body: allocateBody,
        response: { 200: reservationDetailSchema, 201: reserveAnswerSchema, 202: backorderedAnswerSchema, ...errorResponses(409) },
      },
    },
    async (request, reply) => {
      const { body } = request;
      const key = request.headers['idempotency-key'];
      if (!('reservationId' in body)) {
        const call = { operation: 'allocate', caller: request.caller, key, body, response: serveAnswerSchema };
        return send(reply, await serveBatcher.serve({ order: { mode: 'allocate', input: body, actor: request.caller.sub }, call }));
      }
      const call = { operation: 'allocate', caller: request.caller, key, body, response: reservationDetailSchema };
      const ctx = context(request.caller.sub);
      return send(reply, await runIdempotent(pool, call, async (tx) => ({ status: 200, body: await allocateReservation(tx, body, ctx) })));
    },
  );

  api.post(
    '/inventory/ship',
    {
      schema: {
        tags: ['reservations'],
        summary: 'Ship allocated stock',
        headers: idempotencyHeaders,
        body: shipBody,
        response: { 200: reservationDetailSchema, ...errorResponses(409) },
      },
    },
    async (request, reply) => {
      const call = {
        operation: 'ship',
        caller: request.caller,
        key: request.headers['idempotency-key'],
        body: request.body,
        response: reservationDetailSchema,
      };
      return send(
        reply,
        await runIdempotent(pool, call, async (tx) => ({ status: 200, body: await shipReservation(tx, request.body, context(request.caller.sub)) })),
      );
    },
  );

  api.post(
    '/inventory/reservations/:id/extend',
    {
      schema: {
        tags: ['reservations'],
        summary: 'Extend the hold of a reservation',
        params: reservationIdParams,
        body: extendBody,
        response: { 200: reservationDetailSchema, ...errorResponses(409) },
      },
    },
    async (request) => withTransaction(pool, (tx) => extendReservation(tx, request.params.id, request.body, context(request.caller.sub))),
  );

  api.get(
    '/inventory/reservations',
    {
      schema: {
        tags: ['reservations'],
        summary: 'Find reservations by order, status, product, warehouse and time, newest first',
        description:
          'Every filter given narrows the list: orderId, status (one or a comma-separated list; a RESERVED hold past expiresAt is EXPIRED), ' +
          'productId and warehouseId (reservations holding any units of that product or at that warehouse), createdFrom/createdTo and ' +
          'expiresFrom/expiresTo (from included, to excluded). Items carry their lots, without the history. Pass `nextCursor` as `cursor` for the next page.',
        querystring: listReservationsQuery,
        response: { 200: reservationPageSchema },
      },
    },
    async (request) => findReservations(pool, request.query, new Date()),
  );

  api.get(
    '/inventory/reservations/:id',
    {
      schema: {
        tags: ['reservations'],
        summary: 'A reservation with its lots and status history',
        params: reservationIdParams,
        response: { 200: reservationDetailSchema },
      },
    },
    async (request) => loadReservationDetail(pool, request.params.id, new Date()),
  );
}
