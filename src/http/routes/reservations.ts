import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { createReservationsApp } from '../../inventory/reservations/application';
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
  reservationTransferAnswerSchema,
  shipBody,
  transferReservationBody,
} from '../../schemas/reservations';
import type { AppDeps } from '../app-deps';
import { idempotencyHeaders, sendAnswer } from '../idempotency';
import { errorResponses } from '../openapi';

/**
 * The reservation lifecycle of SPEC section 3: reserve, release, allocate, ship, extend, finding and
 * reading reservations. The routes translate HTTP to the reservations application and back; its
 * serve batcher is drained when the app closes.
 */
export function reservationRoutes(app: FastifyInstance, deps: AppDeps): void {
  const reservations = createReservationsApp(deps);
  app.addHook('onClose', () => reservations.close());
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.post(
    '/inventory/reserve',
    {
      schema: {
        operationId: 'reserveStock',
        tags: ['reservations'],
        summary: 'Hold stock for an order',
        description:
          '201 with the reservation (and any shortfall or backorders), 202 when everything was backordered, 409 INSUFFICIENT_STOCK when it cannot be met.',
        headers: idempotencyHeaders,
        body: reserveBody,
        response: { 201: reserveAnswerSchema, 202: backorderedAnswerSchema, ...errorResponses(409) },
      },
    },
    async (request, reply) => sendAnswer(reply, await reservations.reserve(request.caller, request.headers['idempotency-key'], request.body)),
  );

  api.post(
    '/inventory/release',
    {
      schema: {
        operationId: 'releaseReservation',
        tags: ['reservations'],
        summary: 'Release a reservation',
        headers: idempotencyHeaders,
        body: releaseBody,
        response: { 200: reservationDetailSchema, ...errorResponses(409) },
      },
    },
    async (request, reply) => sendAnswer(reply, await reservations.release(request.caller, request.headers['idempotency-key'], request.body)),
  );

  api.post(
    '/inventory/allocate',
    {
      schema: {
        operationId: 'allocateStock',
        tags: ['reservations'],
        summary: 'Allocate a reservation (whole or in part), or allocate directly without one',
        description: 'With reservationId: 200 with the reservation. With orderId and items: as reserve, but the stock is committed (status ALLOCATED).',
        headers: idempotencyHeaders,
        body: allocateBody,
        response: { 200: reservationDetailSchema, 201: reserveAnswerSchema, 202: backorderedAnswerSchema, ...errorResponses(409) },
      },
    },
    async (request, reply) => sendAnswer(reply, await reservations.allocate(request.caller, request.headers['idempotency-key'], request.body)),
  );

  api.post(
    '/inventory/ship',
    {
      schema: {
        operationId: 'shipReservation',
        tags: ['reservations'],
        summary: 'Ship allocated stock',
        headers: idempotencyHeaders,
        body: shipBody,
        response: { 200: reservationDetailSchema, ...errorResponses(409) },
      },
    },
    async (request, reply) => sendAnswer(reply, await reservations.ship(request.caller, request.headers['idempotency-key'], request.body)),
  );

  api.post(
    '/inventory/reservations/:id/extend',
    {
      schema: {
        operationId: 'extendReservation',
        tags: ['reservations'],
        summary: 'Extend the hold of a reservation',
        params: reservationIdParams,
        body: extendBody,
        response: { 200: reservationDetailSchema, ...errorResponses(409) },
      },
    },
    async (request) => reservations.extend(request.caller, request.params.id, request.body),
  );

  api.post(
    '/inventory/reservations/:id/transfer',
    {
      schema: {
        operationId: 'transferReservation',
        tags: ['reservations'],
        summary: 'Move all or part of a reservation to another order',
        description:
          'Moves held units (all of them without `items`; else each item from the lines of its product, and of its warehouse when given) to a new ' +
          'reservation for `orderId`, in one transaction: the same lots, still reserved; the same expiry unless `timeoutMinutes` is given; the ' +
          'same priority and strategy. The source keeps what is left (RELEASED when nothing is). Both get a history row and an event ' +
          '(ReservationTransferredOut, ReservationTransferredIn). 409 INVALID_TRANSITION unless the reservation is RESERVED and its hold has ' +
          'not ended; 409 CONFLICT for more than it holds (`details.shortfall`) or a stale `version`.',
        headers: idempotencyHeaders,
        params: reservationIdParams,
        body: transferReservationBody,
        response: { 201: reservationTransferAnswerSchema, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) =>
      sendAnswer(reply, await reservations.transfer(request.caller, request.headers['idempotency-key'], request.params.id, request.body)),
  );

  api.get(
    '/inventory/reservations',
    {
      schema: {
        operationId: 'listReservations',
        tags: ['reservations'],
        summary: 'Find reservations by order, status, product, warehouse and time, newest first',
        description:
          'Every filter given narrows the list: orderId, status (one or a comma-separated list; a RESERVED hold past expiresAt is EXPIRED), ' +
          'productId and warehouseId (reservations holding any units of that product or at that warehouse), createdFrom/createdTo and ' +
          'expiresFrom/expiresTo (from included, to excluded). Items carry their lots, without the history. Pass `nextCursor` as `cursor` for the next page.' +
          " A service caller sees only its owner's (its token's `tenant`, else `sub`); an admin sees every owner's, narrowed by `owner`.",
        querystring: listReservationsQuery,
        response: { 200: reservationPageSchema },
      },
    },
    async (request) => reservations.find(request.caller, request.query),
  );

  api.get(
    '/inventory/reservations/:id',
    {
      schema: {
        operationId: 'getReservation',
        tags: ['reservations'],
        summary: 'A reservation with its lots and status history',
        params: reservationIdParams,
        response: { 200: reservationDetailSchema },
      },
    },
    async (request) => reservations.get(request.caller, request.params.id),
  );
}
