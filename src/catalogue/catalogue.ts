import {
  findProduct,
  findWarehouse,
  insertProduct,
  insertWarehouse,
  listProducts as listProductRows,
  listWarehouses as listWarehouseRows,
  missingReferences,
  upsertProduct,
} from '../db/catalogue-store';
import type { Queryable } from '../db/client';
import { AppError, notFound } from '../errors';
import type { CreateProduct, CreateWarehouse, Product, Warehouse } from '../schemas/catalogue';

/** Registers a warehouse under the id its owner gives it. */
export async function createWarehouse(db: Queryable, input: CreateWarehouse): Promise<Warehouse> {
  const created = await insertWarehouse(db, input);
  if (!created) throw new AppError('ALREADY_EXISTS', `A warehouse with id ${input.id} or code ${input.code} already exists`);
  return created;
}

/** One page of warehouses, in id order. */
export async function listWarehouses(db: Queryable, page: { limit: number; offset: number }): Promise<Warehouse[]> {
  return listWarehouseRows(db, page);
}

/** A warehouse, or 404. */
export async function getWarehouse(db: Queryable, id: string): Promise<Warehouse> {
  return (await findWarehouse(db, id)) ?? Promise.reject(notFound('Warehouse', id));
}

/** Registers a product under the catalogue's own id. */
export async function createProduct(db: Queryable, input: CreateProduct): Promise<Product> {
  const created = await insertProduct(db, input);
  if (!created) throw new AppError('ALREADY_EXISTS', `A product with id ${input.id} or sku ${input.sku} already exists`);
  return created;
}

/** Keeps the record of a product the catalogue announced (ProductCreated): created, or its sku and name updated. */
export async function recordCatalogueProduct(db: Queryable, product: CreateProduct): Promise<boolean> {
  return upsertProduct(db, product);
}

/** One page of products, in id order. */
export async function listProducts(db: Queryable, page: { limit: number; offset: number }): Promise<Product[]> {
  return listProductRows(db, page);
}

/** A product, or 404. */
export async function getProduct(db: Queryable, id: string): Promise<Product> {
  return (await findProduct(db, id)) ?? Promise.reject(notFound('Product', id));
}

/** Refuses a request that names products or warehouses Stockroom does not know (400, nothing changed). */
export async function assertKnownReferences(db: Queryable, refs: { productIds?: readonly string[]; warehouseIds?: readonly string[] }): Promise<void> {
  const { products, warehouses } = await missingReferences(db, { productIds: refs.productIds ?? [], warehouseIds: refs.warehouseIds ?? [] });
  if (products.length > 0 || warehouses.length > 0) {
    throw new AppError('UNKNOWN_REFERENCE', 'The request names products or warehouses that do not exist', {
      ...(products.length ? { unknownProducts: products } : {}),
      ...(warehouses.length ? { unknownWarehouses: warehouses } : {}),
    });
  }
}
