import { z } from 'zod';
import { externalId, isoTimestamp, userText } from './common';

/** Kinds of warehouse: seed 002's MAIN, SECONDARY and DROPSHIP among Stockroom's own. */
export const warehouseTypes = ['MAIN', 'SECONDARY', 'DROPSHIP', 'DISTRIBUTION_CENTER', 'STORE', 'FULFILLMENT_CENTER', 'THIRD_PARTY', 'RETURNS'] as const;

export const createWarehouseBody = z
  .strictObject({
    id: externalId,
    code: userText(64),
    name: userText(200),
    type: z.enum(warehouseTypes).default('DISTRIBUTION_CENTER'),
    priority: z.number().int().min(0).max(1000).default(0),
    latitude: z.number().min(-90).max(90).optional(),
    longitude: z.number().min(-180).max(180).optional(),
    premium: z.boolean().default(false),
    active: z.boolean().default(true),
  })
  .refine((body) => (body.latitude === undefined) === (body.longitude === undefined), {
    error: 'give latitude and longitude together, or neither',
    path: ['latitude'],
  });
export type CreateWarehouse = z.infer<typeof createWarehouseBody>;

export const warehouseSchema = z.object({
  id: z.string(),
  code: z.string(),
  name: z.string(),
  type: z.string(),
  priority: z.number(),
  latitude: z.number().nullable(),
  longitude: z.number().nullable(),
  premium: z.boolean(),
  active: z.boolean(),
  createdAt: isoTimestamp,
  updatedAt: isoTimestamp,
});
export type Warehouse = z.infer<typeof warehouseSchema>;

export const createProductBody = z.strictObject({
  id: externalId,
  sku: userText(64),
  name: userText(200),
});
export type CreateProduct = z.infer<typeof createProductBody>;

export const productSchema = z.object({
  id: z.string(),
  sku: z.string(),
  name: z.string(),
  createdAt: isoTimestamp,
  updatedAt: isoTimestamp,
});
export type Product = z.infer<typeof productSchema>;
