import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { checkAvailability } from '../../inventory/stock/availability';
import { listLowStock } from '../../inventory/stock/low-stock';
import { listProductMovements } from '../../inventory/stock/movements';
import { getProductInventory } from '../../inventory/stock/product-inventory';
import { putStockSettings } from '../../inventory/stock/settings';
import { adjustStockFillingBackorders, receiveTransferFillingBackorders } from '../../inventory/backorders/replenish';
import { getTransfer, initiateTransfer } from '../../inventory/transfers/transfer';
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
  transferBody,
  transferParams,
  transferSchema,
} from '../../schemas/inventory';
import { runIdempotent, type IdempotentAnswer } from '../../inventory/idempotency';
import { idempotencyKeySchema } from '../idempotency';
import { errorResponses } from '../openapi';
import type { AppDeps } from '../app-deps';

/** The optional Idempotency-Key header of a state-changing call. */
const idempotencyHeaders = z.object({ 'idempotency-key': idempotencyKeySchema.optional() });

/** Sends an idempotent answer; a replayed one says so in a header. */
function sendAnswer<T>(reply: FastifyReply, answer: IdempotentAnswer<T>) {
  if (answer.replayed) reply.header('idempotent-replayed', 'true');
  return reply.status(answer.status).send(answer.body);
}

/** Stock of products: adjustments, availability, levels, the ledger, settings, low stock and transfers (seed 002). */
export function inventoryRoutes(app: FastifyInstance, { pool, config }: AppDeps): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.put(
    '/inventory/adjust',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['inventory'],
        summary: 'Receive, ship, return, write off or correct stock; all lines or none',
        headers: idempotencyHeaders,
        body: adjustBody,
        response: { 200: adjustResponse, ...errorResponses(409) },
      },
    },
    async (request, reply) => {
      const answer = await runIdempotent(
        pool,
        { operation: 'adjust', caller: request.caller, key: request.headers['idempotency-key'], body: request.body, response: adjustResponse },
        async (tx) => ({ status: 200, body: (await adjustStockFillingBackorders(tx, request.body, request.caller.sub)).answer }),
      );
      return sendAnswer(reply, answer);
    },
  );

  api.post(
    '/inventory/check-availability',
    {
      schema: {
        tags: ['inventory'],
        summary: 'How much of each item is available now, per warehouse; holds nothing',
        body: checkAvailabilityBody,
        response: { 200: checkAvailabilityResponse },
      },
    },
    async (request) => checkAvailability(pool, request.body),
  );

  api.get(
    '/inventory/low-stock',
    {
      schema: {
        tags: ['inventory'],
        summary: 'Products at or under their reorder point (or a threshold), with severity and days of supply',
        querystring: lowStockQuery,
        response: { 200: lowStockResponse },
      },
    },
    async (request) => listLowStock(pool, request.query, { now: new Date(), windowDays: config.DAYS_OF_SUPPLY_WINDOW_DAYS }),
  );

  api.put(
    '/inventory/settings',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['inventory'],
        summary: 'Set the reorder levels and bin location of a product at a warehouse',
        body: stockSettingsBody,
        response: { 200: stockSettingsSchema },
      },
    },
    async (request) => putStockSettings(pool, request.body),
  );

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
    async (request, reply) => {
      const answer = await runIdempotent(
        pool,
        { operation: 'transfer', caller: request.caller, key: request.headers['idempotency-key'], body: request.body, response: transferSchema },
        async (tx) => ({ status: 201, body: await initiateTransfer(tx, request.body, request.caller.sub) }),
      );
      return sendAnswer(reply, answer);
    },
  );

  api.get(
    '/inventory/transfers/:id',
    {
      schema: { tags: ['inventory'], summary: 'A transfer and its lines', params: transferParams, response: { 200: transferSchema } },
    },
    async (request) => getTransfer(pool, request.params.id),
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
    async (request, reply) => {
      const answer = await runIdempotent(
        pool,
        { operation: 'transfer-receive', caller: request.caller, key: request.headers['idempotency-key'], body: request.params, response: transferSchema },
        async (tx) => ({ status: 200, body: (await receiveTransferFillingBackorders(tx, request.params.id, request.caller.sub)).answer }),
      );
      return sendAnswer(reply, answer);
    },
  );

  api.get(
    '/inventory/:productId',
    {
      schema: {
        tags: ['inventory'],
        summary: 'Stock of a product: totals, per warehouse, lots and the last 24 hours of movements',
        params: productParams,
        querystring: inventoryQuery,
        response: { 200: productInventoryResponse },
      },
    },
    async (request) => getProductInventory(pool, request.params.productId, request.query.warehouseId),
  );

  api.get(
    '/inventory/:productId/movements',
    {
      schema: {
        tags: ['inventory'],
        summary: 'The ledger of a product, newest first, by pages',
        params: productParams,
        querystring: movementsQuery,
        response: { 200: movementsResponse },
      },
    },
    async (request) => listProductMovements(pool, request.params.productId, request.query),
  );
}
