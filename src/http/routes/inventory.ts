import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { createStockApp } from '../../inventory/stock/application';
import {
  adjustBody,
  adjustResponse,
  checkAvailabilityBody,
  checkAvailabilityResponse,
  inventoryQuery,
  lowStockQuery,
  lowStockResponse,
  movementsQuery,
  movementsResponse,
  productInventoryResponse,
  productParams,
  stockSettingsBody,
  stockSettingsSchema,
} from '../../schemas/inventory';
import type { AppDeps } from '../app-deps';
import { idempotencyHeaders, sendAnswer } from '../idempotency';
import { errorResponses } from '../openapi';

/** Stock of products (seed 002): adjustments, availability, levels, the ledger, settings and low stock. Transfers: routes/transfers.ts. */
export function inventoryRoutes(app: FastifyInstance, deps: AppDeps): void {
  const stock = createStockApp(deps);
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.put(
    '/inventory/adjust',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'adjustStock',
        tags: ['inventory'],
        summary: 'Receive, ship, return, write off or correct stock; all lines or none',
        headers: idempotencyHeaders,
        body: adjustBody,
        response: { 200: adjustResponse, ...errorResponses(409) },
      },
    },
    async (request, reply) => sendAnswer(reply, await stock.adjust(request.caller, request.headers['idempotency-key'], request.body)),
  );

  api.post(
    '/inventory/check-availability',
    {
      schema: {
        operationId: 'checkAvailability',
        tags: ['inventory'],
        summary: 'How much of each item is available now, per warehouse; holds nothing',
        body: checkAvailabilityBody,
        response: { 200: checkAvailabilityResponse },
      },
    },
    async (request) => stock.checkAvailability(request.body),
  );

  api.get(
    '/inventory/low-stock',
    {
      schema: {
        operationId: 'listLowStock',
        tags: ['inventory'],
        summary: 'Products at or under their reorder point (or a threshold), with severity and days of supply',
        querystring: lowStockQuery,
        response: { 200: lowStockResponse },
      },
    },
    async (request) => stock.lowStock(request.query),
  );

  api.put(
    '/inventory/settings',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'setStockSettings',
        tags: ['inventory'],
        summary: 'Set the reorder levels and bin location of a product at a warehouse',
        body: stockSettingsBody,
        response: { 200: stockSettingsSchema },
      },
    },
    async (request) => stock.putSettings(request.body),
  );

  api.get(
    '/inventory/:productId',
    {
      schema: {
        operationId: 'getProductInventory',
        tags: ['inventory'],
        summary: 'Stock of a product: totals, per warehouse, lots and the last 24 hours of movements',
        params: productParams,
        querystring: inventoryQuery,
        response: { 200: productInventoryResponse },
      },
    },
    async (request) => stock.productInventory(request.params.productId, request.query.warehouseId),
  );

  api.get(
    '/inventory/:productId/movements',
    {
      schema: {
        operationId: 'listMovements',
        tags: ['inventory'],
        summary: 'The ledger of a product, newest first, by pages',
        params: productParams,
        querystring: movementsQuery,
        response: { 200: movementsResponse },
      },
    },
    async (request) => stock.movements(request.params.productId, request.query),
  );
}
