/** Shapes of the unit calls (seed 004): finding units, one unit with its history, marking units sold or delivered, an order's inventory. */
import { z } from 'zod';
import { reservationUnitStatuses, unitStatuses } from '../domain/units';
import { cursorPageQuery, externalId, isoTimestamp, namedSerialsSchema, ownerQuery, serialNumberSchema, uuidSchema, valueList } from './common';
import { reservationDetailSchema } from './reservations';

const exampleUnit = {
  id: '01936fb4-3e62-7c77-8a43-f5a6b7c8d9ea',
  productId: 'phone-1',
  serialNumber: 'IMEI-3566',
  warehouseId: 'wh-001',
  lotId: '01936fa0-1b2c-7d3e-8f40-5a6b7c8d9e0f',
  lotNumber: 'L-2024-01',
  condition: 'New',
  status: 'RESERVED',
  reservationId: '01936fb0-aaaa-7bbb-8ccc-0123456789ab',
  orderId: 'inv-77',
  life: 1,
  previousUnitId: null,
  createdAt: '2024-01-15T10:00:00.000Z',
  updatedAt: '2024-01-15T11:00:00.000Z',
};

/**
 * A unit of a serial-tracked product. `reservationId` and `orderId` name the reservation it is held,
 * sold or delivered by; both are null for a unit of no reservation, and for one of another owner's
 * reservation (only its status shows). `life` counts the serial number's lives: a unit delivered or
 * written off and then returned comes back as a new unit, the next life, and `previousUnitId` names
 * the unit it returns (null for a first life).
 */
export const unitSchema = z
  .object({
    id: uuidSchema,
    productId: z.string(),
    serialNumber: z.string(),
    warehouseId: z.string(),
    lotId: uuidSchema,
    lotNumber: z.string().nullable(),
    condition: z.string(),
    status: z.enum(unitStatuses),
    reservationId: uuidSchema.nullable(),
    orderId: z.string().nullable(),
    life: z.number().int().min(1),
    previousUnitId: uuidSchema.nullable(),
    createdAt: isoTimestamp,
    updatedAt: isoTimestamp,
  })
  .meta({ example: exampleUnit });
export type UnitView = z.output<typeof unitSchema>;

/**
 * One step of a serial number's status history; `unitId` and `life` say which unit (which life of the
 * serial number) took it; `reference` (a reservation or an adjustment) is null for another owner's reservation.
 */
export const unitStepSchema = z.object({
  unitId: uuidSchema,
  life: z.number().int().min(1),
  fromStatus: z.enum(unitStatuses).nullable(),
  toStatus: z.enum(unitStatuses),
  reason: z.string().nullable(),
  reference: z.string().nullable(),
  actor: z.string(),
  at: isoTimestamp,
});
export type UnitStepView = z.output<typeof unitStepSchema>;

/** GET /units/:serialNumber: the serial number's current unit and the history of all its lives, oldest first. */
export const unitDetailSchema = unitSchema.extend({ history: z.array(unitStepSchema) });
export type UnitDetail = z.output<typeof unitDetailSchema>;

/** GET /units: by product, status (one or a comma-separated list), order, serial number and warehouse; by product and serial number, by cursor. */
export const listUnitsQuery = z.strictObject({
  productId: externalId.optional(),
  status: valueList(unitStatuses).optional(),
  orderId: externalId.optional(),
  serialNumber: serialNumberSchema.optional(),
  warehouseId: externalId.optional(),
  ...cursorPageQuery,
});
export type ListUnitsQuery = z.output<typeof listUnitsQuery>;

/** One page of units; `nextCursor` is null on the last page. */
export const unitPageSchema = z.object({ items: z.array(unitSchema), nextCursor: uuidSchema.nullable() });
export type UnitPage = z.output<typeof unitPageSchema>;

export const serialNumberParams = z.strictObject({ serialNumber: serialNumberSchema });

/** GET /units/:serialNumber: the product, needed when products share the serial number. */
export const unitLookupQuery = z.strictObject({ productId: externalId.optional() });

/** POST /units/mark-sold and /units/mark-delivered: every unit of an order, or units of one product by serial number. */
export const markUnitsBody = z.union([z.strictObject({ orderId: externalId }), z.strictObject({ productId: externalId, serialNumbers: namedSerialsSchema })]);
export type MarkUnitsInput = z.output<typeof markUnitsBody>;

/** A unit a mark call could not move, and why; `status` UNKNOWN for a serial number the product does not have. */
export const refusedUnitSchema = z.object({
  productId: z.string(),
  serialNumber: z.string(),
  status: z.enum([...unitStatuses, 'UNKNOWN']),
  reservationId: uuidSchema.nullable(),
  reason: z.string(),
});
export type RefusedUnit = z.output<typeof refusedUnitSchema>;

/** 200 of a mark call: the units it moved, as they now are, and the reservations it moved them through. */
export const markUnitsAnswerSchema = z.object({ units: z.array(unitSchema), reservations: z.array(reservationDetailSchema) });
export type MarkUnitsAnswer = z.output<typeof markUnitsAnswerSchema>;

/** Units of a reservation, lot and status whose count differs from what its lines say (src/domain/units.ts, unitDisagreements). */
export const unitDisagreementSchema = z.object({
  reservationId: uuidSchema.nullable(),
  productId: z.string(),
  lotId: uuidSchema,
  status: z.enum(reservationUnitStatuses),
  expected: z.number().int(),
  actual: z.number().int(),
  serialNumbers: z.array(z.string()),
});

export const orderInventoryParams = z.strictObject({ orderId: externalId });

/** GET /orders/:orderId/inventory: whose order (admins; every owner's order of that id without it). */
export const orderInventoryQuery = z.strictObject({ owner: ownerQuery.optional() });

/** GET /orders/:orderId/inventory: every reservation of the order with its lines and history, its units, and whether they agree. */
export const orderInventorySchema = z.object({
  orderId: z.string(),
  consistent: z.boolean(),
  disagreements: z.array(unitDisagreementSchema),
  reservations: z.array(reservationDetailSchema),
  units: z.array(unitSchema),
});
export type OrderInventory = z.output<typeof orderInventorySchema>;
