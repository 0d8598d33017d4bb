import type { CreateProduct, CreateWarehouse, Product, Warehouse } from '../schemas/catalogue';
import type { Tracking } from '../domain/units';
import { queryRow, queryRows, type Queryable, type Transaction } from './client';

const warehouseColumns = `id, code, name, type, priority, latitude, longitude, address, premium, active,
  created_at as "createdAt", updated_at as "updatedAt"`;
const productColumns = `id, sku, name, status, tracking, created_at as "createdAt", updated_at as "updatedAt"`;

/**
 * The negation of productTakesReservations() (src/domain/catalogue.ts) over a product aliased `p`: a
 * DISCONTINUED product takes no new reservations. Written as the predicate of products_discontinued_idx.
 */
export const productRefusesReservationsSql = "p.status = 'DISCONTINUED'";

/** Inserts a warehouse; returns undefined when its id or code is taken. */
export async function insertWarehouse(db: Queryable, warehouse: CreateWarehouse): Promise<Warehouse | undefined> {
  return queryRow<Warehouse>(
    db,
    `insert into warehouses (id, code, name, type, priority, latitude, longitude, address, premium, active)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     on conflict do nothing
     returning ${warehouseColumns}`,
    [
      warehouse.id,
      warehouse.code,
      warehouse.name,
      warehouse.type,
      warehouse.priority,
      warehouse.latitude ?? null,
      warehouse.longitude ?? null,
      warehouse.address ?? null,
      warehouse.premium,
      warehouse.active,
    ],
  );
}

/** Locks a warehouse for a change; undefined when there is none. */
export async function lockWarehouse(tx: Transaction, id: string): Promise<Warehouse | undefined> {
  return queryRow<Warehouse>(tx, `select ${warehouseColumns} from warehouses where id = $1 for update`, [id]);
}

/** Writes a warehouse's changeable fields as given (a locked row), and returns it. */
export async function writeWarehouse(tx: Transaction, warehouse: Warehouse, at: Date): Promise<Warehouse> {
  const row = await queryRow<Warehouse>(
    tx,
    `update warehouses set name = $2, type = $3, priority = $4, latitude = $5, longitude = $6, address = $7, premium = $8, active = $9, updated_at = $10
      where id = $1
      returning ${warehouseColumns}`,
    [
      warehouse.id,
      warehouse.name,
      warehouse.type,
      warehouse.priority,
      warehouse.latitude,
      warehouse.longitude,
      warehouse.address,
      warehouse.premium,
      warehouse.active,
      at,
    ],
  );
  return row!;
}

/** Locks a product for a change; undefined when there is none. */
export async function lockProduct(tx: Transaction, id: string): Promise<Product | undefined> {
  return queryRow<Product>(tx, `select ${productColumns} from products where id = $1 for update`, [id]);
}

/** Writes a product's changeable fields as given (a locked row), and returns it. A sku taken by another product fails (23505 products_sku_key). */
export async function writeProduct(tx: Transaction, product: Product, at: Date): Promise<Product> {
  const row = await queryRow<Product>(
    tx,
    `update products set sku = $2, name = $3, status = $4, tracking = $5, updated_at = $6 where id = $1 returning ${productColumns}`,
    [product.id, product.sku, product.name, product.status, product.tracking, at],
  );
  return row!;
}

export async function findWarehouse(db: Queryable, id: string): Promise<Warehouse | undefined> {
  return queryRow<Warehouse>(db, `select ${warehouseColumns} from warehouses where id = $1`, [id]);
}

export async function listWarehouses(db: Queryable, page: { limit: number; offset: number }): Promise<Warehouse[]> {
  return queryRows<Warehouse>(db, `select ${warehouseColumns} from warehouses order by id limit $1 offset $2`, [page.limit, page.offset]);
}

/** Inserts a product; returns undefined when its id or sku is taken. */
export async function insertProduct(db: Queryable, product: CreateProduct): Promise<Product | undefined> {
  return queryRow<Product>(db, `insert into products (id, sku, name, tracking) values ($1, $2, $3, $4) on conflict do nothing returning ${productColumns}`, [
    product.id,
    product.sku,
    product.name,
    product.tracking ?? 'lot',
  ]);
}

/** Inserts a product or brings its sku and name up to date; false when it was already as given. A sku taken by another product fails (23505). */
export async function upsertProduct(db: Queryable, product: CreateProduct): Promise<boolean> {
  const row = await queryRow(
    db,
    `insert into products (id, sku, name) values ($1, $2, $3)
     on conflict (id) do update set sku = excluded.sku, name = excluded.name, updated_at = now()
      where (products.sku, products.name) is distinct from (excluded.sku, excluded.name)
     returning id`,
    [product.id, product.sku, product.name],
  );
  return row !== undefined;
}

export async function findProduct(db: Queryable, id: string): Promise<Product | undefined> {
  return queryRow<Product>(db, `select ${productColumns} from products where id = $1`, [id]);
}

export async function listProducts(db: Queryable, page: { limit: number; offset: number }): Promise<Product[]> {
  return queryRows<Product>(db, `select ${productColumns} from products order by id limit $1 offset $2`, [page.limit, page.offset]);
}

/**
 * Which of these product and warehouse ids name nothing, and which of the products are discontinued
 * (productRefusesReservationsSql), in one statement.
 */
export async function missingReferences(
  db: Queryable,
  refs: { productIds: readonly string[]; warehouseIds: readonly string[] },
): Promise<{ products: string[]; warehouses: string[]; discontinued: string[] }> {
  if (refs.productIds.length === 0 && refs.warehouseIds.length === 0) return { products: [], warehouses: [], discontinued: [] };
  const rows = await queryRows<{ kind: 'product' | 'warehouse' | 'discontinued'; id: string }>(
    db,
    `select case when p.id is null then 'product' else 'discontinued' end as kind, requested.id
       from unnest($1::text[]) as requested(id) left join products p on p.id = requested.id
      where p.id is null or ${productRefusesReservationsSql}
     union all
     select 'warehouse', requested.id from unnest($2::text[]) as requested(id)
      where not exists (select 1 from warehouses w where w.id = requested.id)`,
    [[...new Set(refs.productIds)], [...new Set(refs.warehouseIds)]],
  );
  const idsOf = (kind: string) => rows.filter((row) => row.kind === kind).map((row) => row.id);
  return { products: idsOf('product'), warehouses: idsOf('warehouse'), discontinued: idsOf('discontinued') };
}

/** How each of these products is tracked (products that do not exist are left out). */
export async function findTracking(db: Queryable, productIds: readonly string[]): Promise<Map<string, Tracking>> {
  if (productIds.length === 0) return new Map();
  const rows = await queryRows<{ id: string; tracking: Tracking }>(db, `select id, tracking from products where id = any($1::text[])`, [
    [...new Set(productIds)],
  ]);
  return new Map(rows.map((row) => [row.id, row.tracking]));
}
