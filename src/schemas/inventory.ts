import { z } from 'zod';
import { adjustmentTypes } from '../domain/adjustment';
import { lowStockSeverities } from '../domain/low-stock';
import { movementTypes } from '../domain/movement';
import {
  externalId,
  isoTimestamp,
  paginationQuery,
  quantitySchema,
  rangeInOrder,
  reasonText,
  referenceText,
  serialNumberSchema,
  signedQuantitySchema,
  userText,
  uuidSchema,
  valueList,
} from './common';

const unitCost = z.number().min(0).max(1_000_000_000);
const lotNumber = userText(100);
const binLocation = userText(64);
const lotVersion = z.number().int().min(0);
/** A count of units in stock settings: 0 up to 1,000,000,000. */
const level = z.number().int().min(0).max(1_000_000_000);

// ---------------------------------------------------------------- adjust

const adjustmentBase = {
  productId: externalId,
  warehouseId: externalId,
  reason: reasonText,
  reference: referenceText.optional(),
};
/** Facts of a lot the line creates (RECEIPT, and RETURN without a lotId). */
const newLotFields = {
  lotNumber: lotNumber.optional(),
  unitCost: unitCost.optional(),
  expiresAt: isoTimestamp.optional(),
  receivedAt: isoTimestamp.optional(),
  binLocation: binLocation.optional(),
};
const namedLotFields = { lotId: uuidSchema.optional(), version: lotVersion.optional() };

const versionNeedsLot = (line: { lotId?: string | undefined; version?: number | undefined }) => line.version === undefined || line.lotId !== undefined;
const versionNeedsLotIssue = { message: 'version is the version of the lot named by lotId; give lotId too', path: ['version'] };

/** A unit coming in under its serial number (serial-tracked products only). */
export const receivedUnitSchema = z.strictObject({
  serialNumber: serialNumberSchema,
  /** New unless given: New, Refurbished, Damaged, … */
  condition: userText(50).optional(),
});
const MAX_SERIALS_PER_LINE = 10_000;
/** The units of a line into a serial-tracked product: one per unit of its quantity. */
const unitsIn = { units: z.array(receivedUnitSchema).min(1).max(MAX_SERIALS_PER_LINE).optional() };
/** The units a line takes out of a serial-tracked product, by serial number: one per unit of its quantity. */
const serialsOut = { serialNumbers: z.array(serialNumberSchema).min(1).max(MAX_SERIALS_PER_LINE).optional() };
const countMatches = (line: { quantity: number; units?: unknown[] | undefined; serialNumbers?: unknown[] | undefined }) =>
  (line.units ?? line.serialNumbers ?? []).length === 0 || (line.units ?? line.serialNumbers ?? []).length === line.quantity;
const countMatchesIssue = { message: 'give one serial number per unit of quantity', path: ['quantity'] };

const receiptLine = z
  .strictObject({ ...adjustmentBase, type: z.literal('RECEIPT'), quantity: quantitySchema, ...newLotFields, ...unitsIn })
  .refine(countMatches, countMatchesIssue);
const returnLine = z
  .strictObject({ ...adjustmentBase, type: z.literal('RETURN'), quantity: quantitySchema, ...namedLotFields, ...newLotFields, ...unitsIn })
  .refine(versionNeedsLot, versionNeedsLotIssue)
  .refine(countMatches, countMatchesIssue)
  .refine((line) => line.lotId === undefined || Object.keys(newLotFields).every((field) => line[field as keyof typeof newLotFields] === undefined), {
    error: 'a return into an existing lot (lotId) cannot also set lotNumber, unitCost, expiresAt, receivedAt or binLocation',
    path: ['lotId'],
  });
const removalLine = (type: 'SHIPMENT' | 'WRITE_OFF') =>
  z
    .strictObject({ ...adjustmentBase, type: z.literal(type), quantity: quantitySchema, ...namedLotFields, ...serialsOut })
    .refine(versionNeedsLot, versionNeedsLotIssue)
    .refine(countMatches, countMatchesIssue);
const correctionLine = z
  .strictObject({ ...adjustmentBase, type: z.literal('ADJUSTMENT'), quantity: signedQuantitySchema, ...namedLotFields })
  .refine(versionNeedsLot, versionNeedsLotIssue);

/** One line of PUT /inventory/adjust; the fields allowed depend on its type. */
export const adjustmentLineSchema = z.discriminatedUnion('type', [receiptLine, removalLine('SHIPMENT'), removalLine('WRITE_OFF'), returnLine, correctionLine]);
export type AdjustmentLineInput = z.infer<typeof adjustmentLineSchema>;

export const adjustBody = z.strictObject({ adjustments: z.array(adjustmentLineSchema).min(1).max(500) });
export type AdjustBody = z.infer<typeof adjustBody>;

/** A lot as the API shows it. */
export const lotSchema = z.object({
  lotId: z.string(),
  productId: z.string(),
  warehouseId: z.string(),
  lotNumber: z.string().nullable(),
  binLocation: z.string().nullable(),
  quantity: z.number(),
  reservedQuantity: z.number(),
  allocatedQuantity: z.number(),
  availableQuantity: z.number(),
  receivedAt: isoTimestamp,
  expiresAt: isoTimestamp.nullable(),
  unitCost: z.number().nullable(),
  version: z.number(),
});
export type LotView = z.infer<typeof lotSchema>;

export const adjustResponse = z.object({
  adjustmentId: z.string(),
  status: z.literal('COMPLETED'),
  adjustments: z.array(
    z.object({
      productId: z.string(),
      warehouseId: z.string(),
      type: z.enum(adjustmentTypes),
      reason: z.string(),
      reference: z.string(),
      adjustedQuantity: z.number(),
      previousQuantity: z.number(),
      newQuantity: z.number(),
      movements: z.array(z.object({ movementId: z.number(), lotId: z.string(), quantityDelta: z.number() })),
    }),
  ),
  lots: z.array(lotSchema),
  adjustedAt: isoTimestamp,
  adjustedBy: z.string(),
});
export type AdjustResponse = z.infer<typeof adjustResponse>;

// ---------------------------------------------------------------- availability

export const checkAvailabilityBody = z.strictObject({
  items: z
    .array(z.strictObject({ productId: externalId, quantity: quantitySchema, warehouseId: externalId.optional() }))
    .min(1)
    .max(500),
});
export type CheckAvailabilityBody = z.infer<typeof checkAvailabilityBody>;

/** Stock of one product at one warehouse; expired units are on hand but never available. */
export const warehouseStockSchema = z.object({
  warehouseId: z.string(),
  active: z.boolean(),
  quantityOnHand: z.number(),
  quantityReserved: z.number(),
  quantityAllocated: z.number(),
  quantityExpired: z.number(),
  quantityAvailable: z.number(),
  /** quantityAvailable under the seed's name */
  availableQuantity: z.number(),
});
export type WarehouseStock = z.infer<typeof warehouseStockSchema>;

export const availabilityStatuses = ['AVAILABLE', 'PARTIAL', 'OUT_OF_STOCK'] as const;

export const checkAvailabilityResponse = z.object({
  available: z.boolean(),
  items: z.array(
    z.object({
      productId: z.string(),
      warehouseId: z.string().optional(),
      requestedQuantity: z.number(),
      availableQuantity: z.number(),
      status: z.enum(availabilityStatuses),
      warehouses: z.array(warehouseStockSchema),
    }),
  ),
  checkedAt: isoTimestamp,
});
export type CheckAvailabilityResponse = z.infer<typeof checkAvailabilityResponse>;

// ---------------------------------------------------------------- inventory of a product

export const productParams = z.strictObject({ productId: externalId });
export const inventoryQuery = z.strictObject({ warehouseId: externalId.optional() });

export const movementSchema = z.object({
  movementId: z.number(),
  lotId: z.string(),
  productId: z.string(),
  warehouseId: z.string(),
  type: z.enum(movementTypes),
  quantityDelta: z.number(),
  reservedDelta: z.number(),
  allocatedDelta: z.number(),
  quantityAfter: z.number(),
  reservedAfter: z.number(),
  allocatedAfter: z.number(),
  reason: z.string().nullable(),
  referenceType: z.string().nullable(),
  referenceId: z.string().nullable(),
  actor: z.string(),
  createdAt: isoTimestamp,
});
export type MovementView = z.infer<typeof movementSchema>;

export const binLocationSchema = z.object({ zone: z.string().nullable(), aisle: z.string().nullable(), shelf: z.string().nullable() });

export const productInventoryResponse = z.object({
  productId: z.string(),
  sku: z.string(),
  name: z.string(),
  totalQuantity: z.number(),
  totalReserved: z.number(),
  totalAllocated: z.number(),
  totalExpired: z.number(),
  totalAvailable: z.number(),
  warehouses: z.array(
    warehouseStockSchema.extend({
      warehouseName: z.string(),
      reorderPoint: z.number().nullable(),
      reorderQuantity: z.number().nullable(),
      minStockLevel: z.number().nullable(),
      maxStockLevel: z.number().nullable(),
      location: binLocationSchema.nullable(),
      lots: z.array(lotSchema.extend({ expired: z.boolean() })),
    }),
  ),
  movements: z.object({
    last24Hours: z.object({
      since: isoTimestamp,
      received: z.number(),
      shipped: z.number(),
      adjusted: z.number(),
      byType: z.array(z.object({ type: z.enum(movementTypes), count: z.number(), quantityDelta: z.number() })),
      items: z.array(movementSchema),
      truncated: z.boolean(),
    }),
  }),
  lastMovementAt: isoTimestamp.nullable(),
  /** lastMovementAt under the seed's name */
  lastUpdated: isoTimestamp.nullable(),
});
export type ProductInventoryResponse = z.infer<typeof productInventoryResponse>;

// ---------------------------------------------------------------- movements

export const movementsQuery = z
  .strictObject({
    type: valueList(movementTypes).optional(),
    warehouseId: externalId.optional(),
    from: isoTimestamp.optional(),
    to: isoTimestamp.optional(),
    limit: paginationQuery.shape.limit,
    cursor: z.coerce.number().int().positive().optional(),
  })
  .refine((query) => rangeInOrder(query.from, query.to), {
    error: 'from must not be after to',
    path: ['from'],
  });
export type MovementsQuery = z.infer<typeof movementsQuery>;

export const movementsResponse = z.object({
  productId: z.string(),
  items: z.array(movementSchema),
  nextCursor: z.number().nullable(),
});
export type MovementsResponse = z.infer<typeof movementsResponse>;

// ---------------------------------------------------------------- settings

const locationPart = userText(32);

export const stockSettingsBody = z
  .strictObject({
    productId: externalId,
    warehouseId: externalId,
    reorderPoint: level,
    reorderQuantity: level,
    minStockLevel: level,
    maxStockLevel: level.nullable().optional(),
    location: z.strictObject({ zone: locationPart, aisle: locationPart, shelf: locationPart }).nullable().optional(),
  })
  .refine((body) => body.maxStockLevel == null || body.maxStockLevel >= body.minStockLevel, {
    error: 'maxStockLevel must be at least minStockLevel',
    path: ['maxStockLevel'],
  });
export type StockSettingsBody = z.infer<typeof stockSettingsBody>;

export const stockSettingsSchema = z.object({
  productId: z.string(),
  warehouseId: z.string(),
  reorderPoint: z.number(),
  reorderQuantity: z.number(),
  minStockLevel: z.number(),
  maxStockLevel: z.number().nullable(),
  location: binLocationSchema.nullable(),
  updatedAt: isoTimestamp,
});
export type StockSettings = z.infer<typeof stockSettingsSchema>;

// ---------------------------------------------------------------- low stock

export const lowStockQuery = z.strictObject({
  warehouseId: externalId.optional(),
  /** Units, or a fraction below 1 of each reorder point (the seed's `threshold=0.2`). */
  threshold: z.coerce
    .number()
    .min(0)
    .max(1_000_000_000)
    .refine((value) => Number.isInteger(value) || value < 1, { error: 'expected a whole number of units, or a fraction below 1 of the reorder point' })
    .optional(),
  limit: paginationQuery.shape.limit,
  offset: paginationQuery.shape.offset,
});
export type LowStockQuery = z.infer<typeof lowStockQuery>;

export const lowStockItemSchema = z.object({
  productId: z.string(),
  productSku: z.string(),
  productName: z.string(),
  warehouseId: z.string(),
  warehouseName: z.string(),
  currentStock: z.number(),
  quantityOnHand: z.number(),
  reorderPoint: z.number(),
  threshold: z.number(),
  minStockLevel: z.number(),
  percentageRemaining: z.number().nullable(),
  suggestedOrderQuantity: z.number(),
  daysOfSupply: z.number().nullable(),
  severity: z.enum(lowStockSeverities),
  /** the severity under the seed's name */
  status: z.enum(lowStockSeverities),
});
export type LowStockItem = z.infer<typeof lowStockItemSchema>;

export const lowStockResponse = z.object({
  items: z.array(lowStockItemSchema),
  totalItems: z.number(),
  criticalItems: z.number(),
  lowItems: z.number(),
});
export type LowStockResponse = z.infer<typeof lowStockResponse>;
