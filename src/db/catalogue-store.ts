import type { CreateProduct, CreateWarehouse, Product, Warehouse } from '../schemas/catalogue';
import { queryRow, queryRows, type Queryable } from './client';

const warehouseColumns = `id, code, name, type, priority, latitude, longitude, premium, active,
  created_at as "createdAt", updated_at as "updatedAt"`;
const productColumns = `id, sku, name, created_at as "createdAt", updated_at as "updatedAt"`;

/** Inserts a warehouse; returns undefined when its id or code is taken. */
export async function insertWarehouse(db: Queryable, warehouse: CreateWarehouse): Promise<Warehouse | undefined> {
  return queryRow<Warehouse>(
    db,
    `insert into warehouses (id, code, name, type, priority, latitude, longitude, premium, active)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
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
      warehouse.premium,
      warehouse.active,
    ],
  );
}

export async function findWarehouse(db: Queryable, id: string): Promise<Warehouse | undefined> {
  return queryRow<Warehouse>(db, `select ${warehouseColumns} from warehouses where id = $1`, [id]);
}

export async function listWarehouses(db: Queryable, page: { limit: number; offset: number }): Promise<Warehouse[]> {
  return queryRows<Warehouse>(db, `select ${warehouseColumns} from warehouses order by id limit $1 offset $2`, [page.limit, page.offset]);
}

/** Inserts a product; returns undefined when its id or sku is taken. */
export async function insertProduct(db: Queryable, product: CreateProduct): Promise<Product | undefined> {
  return queryRow<Product>(db, `insert into products (id, sku, name) values ($1, $2, $3) on conflict do nothing returning ${productColumns}`, [
    product.id,
    product.sku,
    product.name,
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

/** Which of these product and warehouse ids name nothing, in one statement. */
export async function missingReferences(
  db: Queryable,
  refs: { productIds: readonly string[]; warehouseIds: readonly string[] },
): Promise<{ products: string[]; warehouses: string[] }> {
  if (refs.productIds.length === 0 && refs.warehouseIds.length === 0) return { products: [], warehouses: [] };
  const rows = await queryRows<{ kind: 'product' | 'warehouse'; id: string }>(
    db,
    `select 'product' as kind, requested.id from unnest($1::text[]) as requested(id)
      where not exists (select 1 from products p where p.id = requested.id)
     union all
     select 'warehouse', requested.id from unnest($2::text[]) as requested(id)
      where not exists (select 1 from warehouses w where w.id = requested.id)`,
    [[...new Set(refs.productIds)], [...new Set(refs.warehouseIds)]],
  );
  return {
    products: rows.filter((row) => row.kind === 'product').map((row) => row.id),
    warehouses: rows.filter((row) => row.kind === 'warehouse').map((row) => row.id),
  };
}
