import { z } from 'zod';
import { productStatuses } from '../domain/catalogue';
import { trackingModes } from '../domain/units';
import { externalId, isoTimestamp, userText } from './common';

/** Kinds of warehouse: seed 002's MAIN, SECONDARY and DROPSHIP among Stockroom's own. */
export const warehouseTypes = ['MAIN', 'SECONDARY', 'DROPSHIP', 'DISTRIBUTION_CENTER', 'STORE', 'FULFILLMENT_CENTER', 'THIRD_PARTY', 'RETURNS'] as const;

/** A warehouse's postal address (seed 002 keeps it as JSON); country is an ISO 3166-1 alpha-2 code. */
export const addressSchema = z.strictObject({
  line1: userText(200),
  line2: userText(200).optional(),
  city: userText(100),
  region: userText(100).optional(),
  postalCode: userText(20).optional(),
  country: z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166-1 alpha-2 code such as US or DE'),
});
export type Address = z.infer<typeof addressSchema>;

const latitudeField = z.number().min(-90).max(90);
const longitudeField = z.number().min(-180).max(180);

export const createWarehouseBody = z
  .strictObject({
    id: externalId,
    code: userText(64),
    name: userText(200),
    type: z.enum(warehouseTypes).default('DISTRIBUTION_CENTER'),
    priority: z.number().int().min(0).max(1000).default(0),
    latitude: latitudeField.optional(),
    longitude: longitudeField.optional(),
    address: addressSchema.optional(),
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
  address: addressSchema.nullable(),
  premium: z.boolean(),
  active: z.boolean(),
  createdAt: isoTimestamp,
  updatedAt: isoTimestamp,
});
export type Warehouse = z.infer<typeof warehouseSchema>;

/** The fields of a warehouse PATCH /warehouses/:id may change. */
export const warehouseFields = ['name', 'type', 'priority', 'latitude', 'longitude', 'address', 'premium', 'active'] as const;

/**
 * PATCH /warehouses/:id: the fields given are set, the others kept. latitude and longitude (its
 * location) come together, null clears both; address null clears it; active false closes the site.
 */
export const updateWarehouseBody = z
  .strictObject({
    name: userText(200).optional(),
    type: z.enum(warehouseTypes).optional(),
    priority: z.number().int().min(0).max(1000).optional(),
    latitude: latitudeField.nullable().optional(),
    longitude: longitudeField.nullable().optional(),
    address: addressSchema.nullable().optional(),
    premium: z.boolean().optional(),
    active: z.boolean().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { error: `give at least one of ${warehouseFields.join(', ')}` })
  .refine((body) => (body.latitude === undefined) === (body.longitude === undefined) && (body.latitude === null) === (body.longitude === null), {
    error: 'give latitude and longitude together (both null to clear the location), or neither',
    path: ['latitude'],
  });
export type UpdateWarehouse = z.infer<typeof updateWarehouseBody>;

/** GET /warehouses. */
export const warehouseListSchema = z.object({ items: z.array(warehouseSchema) });

/** How a product's stock is counted: `lot` (quantities per lot) or `serial` (one unit per serial number, seed 004). */
const trackingSchema = z.enum(trackingModes);

export const createProductBody = z.strictObject({
  id: externalId,
  sku: userText(64),
  name: userText(200),
  /** lot unless given; a serial-tracked product is received by serial numbers */
  tracking: trackingSchema.optional(),
});
export type CreateProduct = z.infer<typeof createProductBody>;

export const productSchema = z.object({
  id: z.string(),
  sku: z.string(),
  name: z.string(),
  /** DISCONTINUED: takes no new reservations; the ones it has are allocated, shipped and released as ever */
  status: z.enum(productStatuses),
  tracking: trackingSchema,
  createdAt: isoTimestamp,
  updatedAt: isoTimestamp,
});
export type Product = z.infer<typeof productSchema>;

/** The fields of a product PATCH /products/:id may change. */
export const productFields = ['sku', 'name', 'status', 'tracking'] as const;

/** PATCH /products/:id: the fields given are set, the others kept. */
export const updateProductBody = z
  .strictObject({
    sku: userText(64).optional(),
    name: userText(200).optional(),
    status: z.enum(productStatuses).optional(),
    /** may change only while the product has no stock */
    tracking: trackingSchema.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { error: `give at least one of ${productFields.join(', ')}` });
export type UpdateProduct = z.infer<typeof updateProductBody>;

/** GET /products. */
export const productListSchema = z.object({ items: z.array(productSchema) });
