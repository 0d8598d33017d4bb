import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { createTransfersApp } from '../../inventory/transfers/application';
import {
  cancelTransferBody,
  listTransfersQuery,
  receiveTransferBody,
  transferBody,
  transferPageSchema,
  transferParams,
  transferSchema,
} from '../../schemas/transfers';
import type { AppDeps } from '../app-deps';
import { idempotencyHeaders, sendAnswer } from '../idempotency';
import { errorResponses } from '../openapi';

/** Transfers between warehouses (seed 002): sent, received whole or in part, cancelled while on their way, found. */
export function transferRoutes(app: FastifyInstance, deps: AppDeps): void {
  const transfers = createTransfersApp(deps);
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.post(
    '/inventory/transfer',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'createTransfer',
        tags: ['transfers'],
        summary: 'Send stock to another warehouse; it leaves at once and travels IN_TRANSIT',
        description:
          'Name the warehouses on the transfer, or on every item as seed 002 does; one transfer moves stock between one pair of warehouses. ' +
          'Each item answers the stock at both ends (fromWarehouse.previousQuantity / newQuantity, toWarehouse.expectedQuantity).',
        headers: idempotencyHeaders,
        body: transferBody,
        response: { 201: transferSchema, ...errorResponses(409) },
      },
    },
    async (request, reply) => sendAnswer(reply, await transfers.initiate(request.caller, request.headers['idempotency-key'], request.body)),
  );

  api.get(
    '/inventory/transfers',
    {
      schema: {
        operationId: 'listTransfers',
        tags: ['transfers'],
        summary: 'Find transfers by status, warehouse, product, overdue and time, newest first',
        description:
          'Every filter given narrows the list: status (one or a comma-separated list), fromWarehouseId, toWarehouseId, warehouseId (either end), ' +
          'productId, overdue (true: units still on their way after expectedDelivery), createdFrom/createdTo (from included, to excluded). ' +
          'Pass `nextCursor` as `cursor` for the next page.',
        querystring: listTransfersQuery,
        response: { 200: transferPageSchema },
      },
    },
    async (request) => transfers.find(request.query),
  );

  api.get(
    '/inventory/transfers/:id',
    {
      schema: {
        operationId: 'getTransfer',
        tags: ['transfers'],
        summary: 'A transfer, its products and its lines',
        params: transferParams,
        response: { 200: transferSchema },
      },
    },
    async (request) => transfers.get(request.params.id),
  );

  api.post(
    '/inventory/transfers/:id/receive',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'receiveTransfer',
        tags: ['transfers'],
        summary: 'Receive a transfer, whole or in part; with complete, what did not arrive is written off as short',
        description:
          'Without a body everything still on its way arrives. `items` names what arrived, per product or per line; the rest stays on its way ' +
          '(PARTIALLY_RECEIVED) unless `complete` is true, which records it as short with `reason` and closes the transfer (RECEIVED).',
        headers: idempotencyHeaders,
        params: transferParams,
        body: receiveTransferBody,
        response: { 200: transferSchema, ...errorResponses(409) },
      },
    },
    async (request, reply) => sendAnswer(reply, await transfers.receive(request.caller, request.headers['idempotency-key'], request.params.id, request.body)),
  );

  api.post(
    '/inventory/transfers/:id/cancel',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'cancelTransfer',
        tags: ['transfers'],
        summary: 'Cancel a transfer on its way: the units still travelling go back into the lots they left',
        headers: idempotencyHeaders,
        params: transferParams,
        body: cancelTransferBody,
        response: { 200: transferSchema, ...errorResponses(409) },
      },
    },
    async (request, reply) => sendAnswer(reply, await transfers.cancel(request.caller, request.headers['idempotency-key'], request.params.id, request.body)),
  );
}
