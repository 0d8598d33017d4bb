import type { Pool } from 'pg';
import type { TestApp } from './app';
import { bearer } from './tokens';

export const admin = bearer('admin', 'ops-1');
export const service = bearer('service', 'checkout');

/** Registers warehouses and products through the API. */
export async function seedCatalogue(t: TestApp, seed: { warehouses?: string[]; products?: string[]; serialProducts?: string[] }): Promise<void> {
  for (const id of seed.warehouses ?? []) {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/warehouses',
      headers: admin,
      payload: { id, code: id.toUpperCase(), name: `Warehouse ${id}` },
    });
    if (response.statusCode !== 201) throw new Error(`could not create warehouse ${id}: ${response.body}`);
  }
  for (const id of seed.products ?? []) {
    const response = await t.app.inject({ method: 'POST', url: '/api/v1/products', headers: admin, payload: { id, sku: `SKU-${id}`, name: `Product ${id}` } });
    if (response.statusCode !== 201) throw new Error(`could not create product ${id}: ${response.body}`);
  }
  for (const id of seed.serialProducts ?? []) {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/products',
      headers: admin,
      payload: { id, sku: `SKU-${id}`, name: `Product ${id}`, tracking: 'serial' },
    });
    if (response.statusCode !== 201 || response.json().tracking !== 'serial')
      throw new Error(`could not create serial-tracked product ${id}: ${response.body}`);
  }
}

/** PUT /inventory/adjust as an admin; returns the raw response. */
export async function adjust(t: TestApp, adjustments: unknown[], headers: Record<string, string> = {}) {
  return t.app.inject({ method: 'PUT', url: '/api/v1/inventory/adjust', headers: { ...admin, ...headers }, payload: { adjustments } });
}

/** Receives stock into a new lot and returns the lot id; fails the test when refused. */
export async function receive(t: TestApp, productId: string, warehouseId: string, quantity: number, extra: Record<string, unknown> = {}): Promise<string> {
  const response = await adjust(t, [{ productId, warehouseId, quantity, type: 'RECEIPT', reason: 'delivery', ...extra }]);
  if (response.statusCode !== 200) throw new Error(`receipt refused: ${response.body}`);
  return response.json().adjustments[0].movements[0].lotId;
}

/** Every lot and the number of ledger rows, to prove a refused call changed nothing. */
export async function stockSnapshot(pool: Pool) {
  const lots = await pool.query('select id, quantity, reserved_quantity, allocated_quantity, version from inventory_items order by id');
  const ledger = await pool.query('select count(*)::int as count from inventory_transactions');
  const transfers = await pool.query('select count(*)::int as count from transfers');
  return { lots: lots.rows, ledgerRows: ledger.rows[0].count as number, transfers: transfers.rows[0].count as number };
}

/** A lot's quantities as stored. */
export async function lotState(pool: Pool, lotId: string) {
  const { rows } = await pool.query(
    `select quantity, reserved_quantity as reserved, allocated_quantity as allocated, version, received_at as "receivedAt",
            expires_at as "expiresAt", unit_cost::float8 as "unitCost", lot_number as "lotNumber", warehouse_id as "warehouseId"
       from inventory_items where id = $1`,
    [lotId],
  );
  return rows[0];
}
