import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withTransaction } from '../../db/client';
import { cancelBackorder, listBackorders } from '../../inventory/backorders/backorders';
import { backorderIdParams, backorderSchema, listBackordersQuery } from '../../schemas/backorders';
import { errorResponses } from '../openapi';
import type { AppDeps } from '../app-deps';

/** Backorders: listed with filters, cancelled while open. They are filled by replenishment, not by a call. */
export function backorderRoutes(app: FastifyInstance, { pool }: AppDeps): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/backorders',
    {
      schema: {
        tags: ['backorders'],
        summary: 'List backorders, highest priority then oldest first',
        querystring: listBackordersQuery,
        response: { 200: z.object({ items: z.array(backorderSchema), limit: z.number().int(), offset: z.number().int() }) },
      },
    },
    async (request) => ({ items: await listBackorders(pool, request.query), limit: request.query.limit, offset: request.query.offset }),
  );

  api.delete(
    '/backorders/:id',
    {
      schema: {
        tags: ['backorders'],
        summary: 'Cancel an open backorder',
        params: backorderIdParams,
        response: { 200: backorderSchema, ...errorResponses(409) },
      },
    },
    async (request) => withTransaction(pool, (tx) => cancelBackorder(tx, request.params.id, new Date())),
  );
}
