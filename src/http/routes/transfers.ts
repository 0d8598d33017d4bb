import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { createTransfersApp } from '../../inventory/transfers/application';
import { transferBody, transferParams, transferSchema } from '../../schemas/inventory';
import type { AppDeps } from '../app-deps';
import { idempotencyHeaders, sendAnswer } from '../idempotency';
import { errorResponses } from '../openapi';

/** Transfers between warehouses (seed 002): send, follow, receive. */
export function transferRoutes(app: FastifyInstance, deps: AppDeps): void {
  const transfers = createTransfersApp(deps);
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.post(
    '/inventory/transfer',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['inventory'],
        summary: 'Send stock to another warehouse; it leaves at once and travels IN_TRANSIT',
        headers: idempotencyHeaders,
        body: transferBody,
        response: { 201: transferSchema, ...errorResponses(409) },
      },
    },
    async (request, reply) => sendAnswer(reply, await transfers.initiate(request.caller, request.headers['idempotency-key'], request.body)),
  );

  api.get(
    '/inventory/transfers/:id',
    {
      schema: { tags: ['inventory'], summary: 'A transfer and its lines', params: transferParams, response: { 200: transferSchema } },
    },
    async (request) => transfers.get(request.params.id),
  );

  api.post(
    '/inventory/transfers/:id/receive',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['inventory'],
        summary: 'Receive a transfer: each line arrives as a new lot keeping its age, expiry and cost',
        headers: idempotencyHeaders,
        params: transferParams,
        response: { 200: transferSchema, ...errorResponses(409) },
      },
    },
    async (request, reply) => sendAnswer(reply, await transfers.receive(request.caller, request.headers['idempotency-key'], request.params.id)),
  );
}
