import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createProduct, createWarehouse, getProduct, getWarehouse, listProducts, listWarehouses } from '../../catalogue/catalogue';
import { createProductBody, createWarehouseBody, productSchema, warehouseSchema } from '../../schemas/catalogue';
import { externalId, paginationQuery } from '../../schemas/common';
import { errorResponses } from '../openapi';
import type { AppDeps } from '../app-deps';

const idParams = z.strictObject({ id: externalId });

/** Warehouses and products: admins create them, any caller reads them. */
export function catalogueRoutes(app: FastifyInstance, { pool }: AppDeps): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.post(
    '/warehouses',
    {
      config: { access: 'admin' },
      schema: { tags: ['catalogue'], summary: 'Register a warehouse', body: createWarehouseBody, response: { 201: warehouseSchema, ...errorResponses(409) } },
    },
    async (request, reply) => reply.status(201).send(await createWarehouse(pool, request.body)),
  );

  api.get(
    '/warehouses',
    {
      schema: {
        tags: ['catalogue'],
        summary: 'List warehouses',
        querystring: paginationQuery,
        response: { 200: z.object({ items: z.array(warehouseSchema) }) },
      },
    },
    async (request) => ({ items: await listWarehouses(pool, request.query) }),
  );

  api.get(
    '/warehouses/:id',
    {
      schema: { tags: ['catalogue'], summary: 'Get a warehouse', params: idParams, response: { 200: warehouseSchema } },
    },
    async (request) => getWarehouse(pool, request.params.id),
  );

  api.post(
    '/products',
    {
      config: { access: 'admin' },
      schema: { tags: ['catalogue'], summary: 'Register a product', body: createProductBody, response: { 201: productSchema, ...errorResponses(409) } },
    },
    async (request, reply) => reply.status(201).send(await createProduct(pool, request.body)),
  );

  api.get(
    '/products',
    {
      schema: { tags: ['catalogue'], summary: 'List products', querystring: paginationQuery, response: { 200: z.object({ items: z.array(productSchema) }) } },
    },
    async (request) => ({ items: await listProducts(pool, request.query) }),
  );

  api.get(
    '/products/:id',
    {
      schema: { tags: ['catalogue'], summary: 'Get a product', params: idParams, response: { 200: productSchema } },
    },
    async (request) => getProduct(pool, request.params.id),
  );
}
