import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { createBackordersApp } from '../../inventory/backorders/application';
import { backorderIdParams, backorderPageSchema, backorderSchema, listBackordersQuery } from '../../schemas/backorders';
import { errorResponses } from '../openapi';
import type { AppDeps } from '../app-deps';

/** Backorders: listed with filters, cancelled while open. They are filled by replenishment, not by a call. */
export function backorderRoutes(app: FastifyInstance, deps: AppDeps): void {
  const backorders = createBackordersApp(deps);
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/backorders',
    {
      schema: {
        operationId: 'listBackorders',
        tags: ['backorders'],
        summary: 'Find backorders by product, warehouse, status, order, reservation and time, highest priority then oldest first',
        description:
          'Every filter given narrows the list: productId, warehouseId (the warehouse a backorder is pinned to), status (one or a comma-separated list), ' +
          'orderId (or its older name referenceId), reservationId, createdFrom/createdTo (from included, to excluded). ' +
          'Pass `nextCursor` as `cursor` for the next page (null on the last); `offset` pages the older way.' +
          " A service caller sees only its owner's (its token's `tenant`, else `sub`); an admin sees every owner's, narrowed by `owner`.",
        querystring: listBackordersQuery,
        response: { 200: backorderPageSchema },
      },
    },
    async (request) => backorders.find(request.caller, request.query),
  );

  api.delete(
    '/backorders/:id',
    {
      schema: {
        operationId: 'cancelBackorder',
        tags: ['backorders'],
        summary: 'Cancel an open backorder',
        params: backorderIdParams,
        response: { 200: backorderSchema, ...errorResponses(409) },
      },
    },
    async (request) => backorders.cancel(request.caller, request.params.id),
  );
}
