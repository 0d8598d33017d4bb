import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  createProduct,
  createWarehouse,
  getProduct,
  getWarehouse,
  listProducts,
  listWarehouses,
  updateProduct,
  updateWarehouse,
} from '../../catalogue/catalogue';
import {
  createProductBody,
  createWarehouseBody,
  productListSchema,
  productSchema,
  updateProductBody,
  updateWarehouseBody,
  warehouseListSchema,
  warehouseSchema,
} from '../../schemas/catalogue';
import { externalId, paginationQuery } from '../../schemas/common';
import { errorResponses } from '../openapi';
import type { AppDeps } from '../app-deps';

const idParams = z.strictObject({ id: externalId });

/** Warehouses and products: admins create and change them, any caller reads them. */
export function catalogueRoutes(app: FastifyInstance, { pool }: AppDeps): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.post(
    '/warehouses',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'createWarehouse',
        tags: ['catalogue'],
        summary: 'Register a warehouse',
        body: createWarehouseBody,
        response: { 201: warehouseSchema, ...errorResponses(409) },
      },
    },
    async (request, reply) => reply.status(201).send(await createWarehouse(pool, request.body)),
  );

  api.get(
    '/warehouses',
    {
      schema: {
        operationId: 'listWarehouses',
        tags: ['catalogue'],
        summary: 'List warehouses',
        querystring: paginationQuery,
        response: { 200: warehouseListSchema },
      },
    },
    async (request) => ({ items: await listWarehouses(pool, request.query) }),
  );

  api.get(
    '/warehouses/:id',
    {
      schema: { operationId: 'getWarehouse', tags: ['catalogue'], summary: 'Get a warehouse', params: idParams, response: { 200: warehouseSchema } },
    },
    async (request) => getWarehouse(pool, request.params.id),
  );

  api.patch(
    '/warehouses/:id',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'updateWarehouse',
        tags: ['catalogue'],
        summary: 'Change a warehouse: name, type, priority, location, address, premium, active',
        description:
          'The fields given are set, the others kept (latitude and longitude together; null clears the location or the address). ' +
          '`active: false` closes the site: it serves no new reservation or allocation, and availability shows it with `active: false` and ' +
          'nothing available; what it holds is still allocated, shipped, released or transferred out. A change writes WarehouseUpdated; ' +
          'a call that changes nothing writes nothing.',
        params: idParams,
        body: updateWarehouseBody,
        response: { 200: warehouseSchema, ...errorResponses(404) },
      },
    },
    async (request) => updateWarehouse(pool, request.params.id, request.body, request.caller.sub),
  );

  api.post(
    '/products',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'createProduct',
        tags: ['catalogue'],
        summary: 'Register a product',
        body: createProductBody,
        response: { 201: productSchema, ...errorResponses(409) },
      },
    },
    async (request, reply) => reply.status(201).send(await createProduct(pool, request.body)),
  );

  api.get(
    '/products',
    {
      schema: {
        operationId: 'listProducts',
        tags: ['catalogue'],
        summary: 'List products',
        querystring: paginationQuery,
        response: { 200: productListSchema },
      },
    },
    async (request) => ({ items: await listProducts(pool, request.query) }),
  );

  api.patch(
    '/products/:id',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'updateProduct',
        tags: ['catalogue'],
        summary: 'Change a product: sku, name, status (ACTIVE or DISCONTINUED)',
        description:
          'The fields given are set, the others kept. A DISCONTINUED product takes no new reservation or allocation (409 PRODUCT_DISCONTINUED); ' +
          'its existing reservations are allocated, shipped, released and moved as before, and ACTIVE takes it back. A change writes ' +
          'ProductUpdated; a call that changes nothing writes nothing. A sku another product has: 409 ALREADY_EXISTS.',
        params: idParams,
        body: updateProductBody,
        response: { 200: productSchema, ...errorResponses(404, 409) },
      },
    },
    async (request) => updateProduct(pool, request.params.id, request.body, request.caller.sub),
  );

  api.get(
    '/products/:id',
    {
      schema: { operationId: 'getProduct', tags: ['catalogue'], summary: 'Get a product', params: idParams, response: { 200: productSchema } },
    },
    async (request) => getProduct(pool, request.params.id),
  );
}
