/** The demo catalogue and stock `stockroom seed` creates; deterministic, so every run builds the same data. */
import type { z } from 'zod';
import type { adjustmentLineSchema } from '../schemas/inventory';
import type { CreateWarehouse } from '../schemas/catalogue';

export type DemoWarehouse = Omit<CreateWarehouse, 'active'>;
export type DemoProduct = { id: string; sku: string; name: string };
/** A RECEIPT line of PUT /inventory/adjust, as sent. */
export type DemoReceipt = Extract<z.input<typeof adjustmentLineSchema>, { type: 'RECEIPT' }> & { quantity: number };

export const demoWarehouses: readonly DemoWarehouse[] = [
  {
    id: 'wh-001',
    code: 'NYC',
    name: 'New York distribution center',
    type: 'DISTRIBUTION_CENTER',
    priority: 10,
    latitude: 40.7128,
    longitude: -74.006,
    premium: false,
  },
  {
    id: 'wh-002',
    code: 'CHI',
    name: 'Chicago fulfillment center',
    type: 'FULFILLMENT_CENTER',
    priority: 5,
    latitude: 41.8781,
    longitude: -87.6298,
    premium: false,
  },
  {
    id: 'wh-003',
    code: 'LAX',
    name: 'Los Angeles premium hub',
    type: 'FULFILLMENT_CENTER',
    priority: 1,
    latitude: 34.0522,
    longitude: -118.2437,
    premium: true,
  },
];

const adjectives = ['Compact', 'Deluxe', 'Rugged', 'Silent', 'Classic', 'Smart', 'Travel', 'Organic', 'Heavy-duty', 'Mini'];
const nouns = ['Widget', 'Kettle', 'Backpack', 'Lamp', 'Headphones', 'Blender', 'Notebook', 'Drill', 'Tea', 'Charger'];

/** A small seeded PRNG (mulberry32): the same seed gives the same numbers everywhere. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The demo products demo-0001 … demo-N. */
export function demoProducts(size: number): DemoProduct[] {
  const width = Math.max(4, String(size).length);
  return Array.from({ length: size }, (_, index) => {
    const number = String(index + 1).padStart(width, '0');
    return {
      id: `demo-${number}`,
      sku: `DEMO-${number}`,
      name: `${adjectives[index % adjectives.length]} ${nouns[Math.floor(index / adjectives.length) % nouns.length]} ${index + 1}`,
    };
  });
}

/** One to three lots per product in varied warehouses, ages, expiries and costs, so every strategy has a choice. */
export function demoReceipts(products: readonly DemoProduct[], now: Date): DemoReceipt[] {
  const day = 86_400_000;
  return products.flatMap((product, index) => {
    const next = seededRandom(index + 1);
    const lots = 1 + Math.floor(next() * 3);
    return Array.from({ length: lots }, (_, lot) => {
      const warehouse = demoWarehouses[(index + lot) % demoWarehouses.length]!;
      const receivedAt = new Date(now.getTime() - Math.floor(next() * 90 + 1) * day);
      const perishable = next() < 0.3;
      return {
        productId: product.id,
        warehouseId: warehouse.id,
        quantity: 20 + Math.floor(next() * 481),
        type: 'RECEIPT' as const,
        reason: 'demo data',
        reference: 'stockroom seed',
        lotNumber: `L-${product.id.slice(5)}-${lot + 1}`,
        unitCost: Math.round((1 + next() * 49) * 100) / 100,
        receivedAt: receivedAt.toISOString(),
        ...(perishable ? { expiresAt: new Date(now.getTime() + Math.floor(next() * 335 + 30) * day).toISOString() } : {}),
      };
    });
  });
}
