import {
  findProduct,
  findWarehouse,
  insertProduct,
  insertWarehouse,
  listProducts as listProductRows,
  listWarehouses as listWarehouseRows,
  lockProduct,
  lockWarehouse,
  missingReferences,
  upsertProduct,
  writeProduct,
  writeWarehouse,
} from '../db/catalogue-store';
import type { Pool } from 'pg';
import { withTransaction, type Queryable, type Transaction } from '../db/client';
import { lockFor } from '../db/locks';
import { isUniqueViolationOf } from '../db/pg-errors';
import { commitWrites } from '../db/writes';
import { applyPatch } from '../domain/catalogue';
import type { Tracking } from '../domain/units';
import { AppError, notFound } from '../errors';
import { outboxRows } from '../events/outbox';
import {
  productFields,
  warehouseFields,
  type CreateProduct,
  type CreateWarehouse,
  type Product,
  type UpdateProduct,
  type UpdateWarehouse,
  type Warehouse,
} from '../schemas/catalogue';

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

/**
 * Changes the given fields of a warehouse, in one transaction with its WarehouseUpdated event; a
 * call that changes nothing writes nothing. Deactivating it stops it serving new reservations and
 * allocations at once (src/domain/catalogue.ts); what it holds is still released, shipped or moved out.
 */
export async function updateWarehouse(pool: Pool, id: string, patch: UpdateWarehouse, actor: string): Promise<Warehouse> {
  return withTransaction(pool, async (tx) => {
    const current = await lockWarehouse(tx, id);
    if (current === undefined) throw notFound('Warehouse', id);
    const { next, changed } = applyPatch(current, patch, warehouseFields);
    if (changed.length === 0) return next;
    const now = new Date();
    const written = await writeWarehouse(tx, next, now);
    const { id: warehouseId, createdAt: _created, updatedAt: _updated, ...warehouse } = written;
    await commitWrites(tx, { outbox: outboxRows([{ type: 'WarehouseUpdated', warehouseId, changed, warehouse, updatedBy: actor, timestamp: now }], now) });
    return written;
  });
}

/**
 * Changes the given fields of a product, in one transaction with its ProductUpdated event; a call
 * that changes nothing writes nothing. A DISCONTINUED product takes no new reservations; those it
 * has live on. A sku another product has is refused (409 ALREADY_EXISTS).
 */
export async function updateProduct(pool: Pool, id: string, patch: UpdateProduct, actor: string): Promise<Product> {
  try {
    return await withTransaction(pool, async (tx) => {
      const current = await lockProduct(tx, id);
      if (current === undefined) throw notFound('Product', id);
      const { next, changed } = applyPatch(current, patch, productFields);
      if (changed.length === 0) return next;
      if (changed.includes('tracking')) await assertNoStock(tx, id, next.tracking);
      const now = new Date();
      const written = await writeProduct(tx, next, now);
      const product = { sku: written.sku, name: written.name, status: written.status, tracking: written.tracking };
      await commitWrites(tx, { outbox: outboxRows([{ type: 'ProductUpdated', productId: id, changed, product, updatedBy: actor, timestamp: now }], now) });
      return written;
    });
  } catch (error) {
    if (isUniqueViolationOf(error, 'products_sku_key')) throw new AppError('ALREADY_EXISTS', `Another product has sku ${patch.sku ?? ''}`, { sku: patch.sku });
    throw error;
  }
}

/**
 * Refuses (409) a change of a product's tracking while it has stock on hand: its lots' quantities
 * would no longer be what its units count (or have units to count). Holds the product's lots
 * (lockFor, after the product row) so no receipt lands between the look and the change.
 */
async function assertNoStock(tx: Transaction, productId: string, tracking: Tracking): Promise<void> {
  const { lots } = await lockFor(tx, { products: [productId] });
  const onHand = lots.reduce((sum, lot) => sum + lot.quantity, 0);
  if (onHand > 0) {
    throw new AppError('CONFLICT', `Product ${productId} has ${onHand} units on hand; its tracking can change to ${tracking} only while it has no stock`, {
      productId,
      onHand,
    });
  }
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
