import { z } from 'zod';
import { productStatuses } from '../domain/catalogue';
import { findingKinds, findingSubjects } from '../domain/consistency';
import { trackingModes } from '../domain/units';
import { lowStockSeverities } from '../domain/low-stock';
import { priorities } from '../domain/priority';
import { destinationWhenNeeded, externalId, hasDestinationWhenNeeded, isoTimestamp, servingFields, stockLineOf, userText, uuidSchema } from '../schemas/common';

/**
 * The events Stockroom publishes (SPEC §7), one zod schema each, discriminated on `type`.
 * In code timestamps are Dates; on the wire (outbox payload, message body) they are ISO 8601 strings:
 * `z.encode(inventoryEventSchema, event)` gives the wire form, `inventoryEventSchema.parse(json)` reads it back.
 */

const count = z.number().int().positive();
const stockLevel = z.number().int();
const optionalText = z.string().max(500).nullable();

/** What every event carries besides its own fields. aggregateType/aggregateId name what the event is about; events of one aggregate are published in order. */
const envelope = {
  eventId: uuidSchema,
  timestamp: isoTimestamp,
  aggregateType: z.string(),
  aggregateId: z.string(),
};

/** A quantity of one product at one warehouse. */
export const stockLineSchema = z.object({ productId: externalId, warehouseId: externalId, quantity: count });
export type StockLine = z.output<typeof stockLineSchema>;

export const adjustmentTypes = ['RECEIPT', 'SHIPMENT', 'ADJUSTMENT', 'RETURN', 'WRITE_OFF'] as const;

export const inventoryReservedSchema = z.object({
  ...envelope,
  type: z.literal('InventoryReserved'),
  reservationId: uuidSchema,
  orderId: z.string(),
  customerId: z.string().nullable(),
  items: z.array(stockLineSchema),
  expiresAt: isoTimestamp,
});

export const inventoryReleasedSchema = z.object({
  ...envelope,
  type: z.literal('InventoryReleased'),
  reservationId: uuidSchema,
  orderId: z.string(),
  items: z.array(stockLineSchema),
  reason: optionalText,
});

/** Stock committed to an order: from a reservation (reservationId set) or directly (allocationId set). */
export const inventoryAllocatedSchema = z.object({
  ...envelope,
  type: z.literal('InventoryAllocated'),
  reservationId: uuidSchema.nullable(),
  allocationId: uuidSchema.nullable(),
  orderId: z.string().nullable(),
  items: z.array(stockLineSchema),
});

export const reservationExpiredSchema = z.object({
  ...envelope,
  type: z.literal('ReservationExpired'),
  reservationId: uuidSchema,
  orderId: z.string(),
  items: z.array(stockLineSchema),
  expiresAt: isoTimestamp,
});

/**
 * Units of a reservation were moved to a new reservation of another order (POST
 * /inventory/reservations/:id/transfer), written on the side they left: `items` left this
 * reservation, `status` is what it is now (RELEASED when nothing is left). Stock is unchanged.
 */
export const reservationTransferredOutSchema = z.object({
  ...envelope,
  type: z.literal('ReservationTransferredOut'),
  reservationId: uuidSchema,
  orderId: z.string(),
  toReservationId: uuidSchema,
  toOrderId: z.string(),
  items: z.array(stockLineSchema),
  status: z.enum(['RESERVED', 'RELEASED']),
  reason: optionalText,
  transferredBy: z.string(),
});

/** The other side of ReservationTransferredOut: the new reservation holding the moved units, and until when. */
export const reservationTransferredInSchema = z.object({
  ...envelope,
  type: z.literal('ReservationTransferredIn'),
  reservationId: uuidSchema,
  orderId: z.string(),
  customerId: z.string().nullable(),
  fromReservationId: uuidSchema,
  fromOrderId: z.string(),
  items: z.array(stockLineSchema),
  expiresAt: isoTimestamp,
  reason: optionalText,
  transferredBy: z.string(),
});

/** One adjustment line (seed 002): stock is on hand of the product at the warehouse, before and after. */
export const stockAdjustedSchema = z.object({
  ...envelope,
  type: z.literal('StockAdjusted'),
  adjustmentId: uuidSchema,
  productId: externalId,
  warehouseId: externalId,
  adjustmentType: z.enum(adjustmentTypes),
  quantity: z.number().int(),
  previousStock: stockLevel,
  newStock: stockLevel,
  reason: optionalText,
  reference: optionalText,
  adjustedBy: z.string(),
});

/** Available stock of a product at a warehouse fell to or below its reorder point. */
export const lowStockAlertSchema = z.object({
  ...envelope,
  type: z.literal('LowStockAlert'),
  productId: externalId,
  warehouseId: externalId,
  currentStock: stockLevel,
  reorderPoint: z.number().int().nonnegative(),
  severity: z.enum(lowStockSeverities),
});

const backorderFields = {
  backorderId: uuidSchema,
  productId: externalId,
  reservationId: uuidSchema.nullable(),
  allocationId: uuidSchema.nullable(),
  referenceType: optionalText,
  referenceId: optionalText,
};

export const backorderCreatedSchema = z.object({
  ...envelope,
  type: z.literal('BackorderCreated'),
  ...backorderFields,
  warehouseId: externalId.nullable(),
  quantity: count,
  priority: z.enum(priorities),
});

/** Some or all of a backorder served from new stock; status FULFILLED when nothing remains. */
export const backorderFulfilledSchema = z.object({
  ...envelope,
  type: z.literal('BackorderFulfilled'),
  ...backorderFields,
  quantity: count,
  fulfilledQuantity: count,
  remainingQuantity: z.number().int().nonnegative(),
  status: z.enum(['OPEN', 'FULFILLED']),
  items: z.array(stockLineSchema),
});

const transferLineSchema = z.object({ productId: externalId, quantity: count });

const transferFields = {
  transferId: uuidSchema,
  fromWarehouseId: externalId,
  toWarehouseId: externalId,
  reference: optionalText,
};

export const transferInitiatedSchema = z.object({
  ...envelope,
  type: z.literal('TransferInitiated'),
  ...transferFields,
  items: z.array(transferLineSchema),
  reason: optionalText,
  expectedDelivery: isoTimestamp.nullable(),
  initiatedBy: z.string(),
});

/** Units of a transfer arrived (`items`), and those found short on arrival (`shortages`, with `reason`); PARTIALLY_RECEIVED while more are on their way. */
export const transferReceivedSchema = z.object({
  ...envelope,
  type: z.literal('TransferReceived'),
  ...transferFields,
  status: z.enum(['PARTIALLY_RECEIVED', 'RECEIVED']),
  items: z.array(transferLineSchema),
  shortages: z.array(transferLineSchema),
  reason: optionalText,
  receivedBy: z.string(),
});

/** A transfer was cancelled: the units still on their way are back in the lots they left (`items`). */
export const transferCancelledSchema = z.object({
  ...envelope,
  type: z.literal('TransferCancelled'),
  ...transferFields,
  items: z.array(transferLineSchema),
  reason: optionalText,
  cancelledBy: z.string(),
});

/** A warehouse was changed (PATCH /warehouses/:id): the fields that changed, and the warehouse as it now is. */
export const warehouseUpdatedSchema = z.object({
  ...envelope,
  type: z.literal('WarehouseUpdated'),
  warehouseId: externalId,
  changed: z.array(z.string()).min(1),
  warehouse: z.object({
    code: z.string(),
    name: z.string(),
    type: z.string(),
    priority: z.number().int(),
    latitude: z.number().nullable(),
    longitude: z.number().nullable(),
    address: z.record(z.string(), z.string()).nullable(),
    premium: z.boolean(),
    active: z.boolean(),
  }),
  updatedBy: z.string(),
});

/** A product was changed (PATCH /products/:id): the fields that changed, and the product as it now is. */
export const productUpdatedSchema = z.object({
  ...envelope,
  type: z.literal('ProductUpdated'),
  productId: externalId,
  changed: z.array(z.string()).min(1),
  product: z.object({ sku: z.string(), name: z.string(), status: z.enum(productStatuses), tracking: z.enum(trackingModes) }),
  updatedBy: z.string(),
});

/** The consistency check found an inconsistency it had not seen open before (GET /admin/consistency lists it). */
export const consistencyIssueDetectedSchema = z.object({
  ...envelope,
  type: z.literal('ConsistencyIssueDetected'),
  findingId: uuidSchema,
  kind: z.enum(findingKinds),
  subjectType: z.enum(findingSubjects),
  subjectId: z.string(),
  detail: z.record(z.string(), z.unknown()),
  firstSeenAt: isoTimestamp,
});

/** Every event Stockroom publishes. */
export const inventoryEventSchema = z.discriminatedUnion('type', [
  inventoryReservedSchema,
  inventoryReleasedSchema,
  inventoryAllocatedSchema,
  reservationExpiredSchema,
  reservationTransferredOutSchema,
  reservationTransferredInSchema,
  stockAdjustedSchema,
  lowStockAlertSchema,
  backorderCreatedSchema,
  backorderFulfilledSchema,
  transferInitiatedSchema,
  transferReceivedSchema,
  transferCancelledSchema,
  warehouseUpdatedSchema,
  productUpdatedSchema,
  consistencyIssueDetectedSchema,
]);

export type InventoryEvent = z.output<typeof inventoryEventSchema>;
export type InventoryEventType = InventoryEvent['type'];
/** The wire form: what the outbox stores and the message body carries. */
export type InventoryEventJson = z.input<typeof inventoryEventSchema>;

/** Routing key of each event on the events exchange (SPEC §7). */
export const routingKeys: Readonly<Record<InventoryEventType, string>> = Object.freeze({
  InventoryReserved: 'inventory.reserved',
  InventoryReleased: 'inventory.released',
  InventoryAllocated: 'inventory.allocated',
  ReservationExpired: 'inventory.reservation_expired',
  ReservationTransferredOut: 'inventory.reservation_transferred_out',
  ReservationTransferredIn: 'inventory.reservation_transferred_in',
  StockAdjusted: 'inventory.stock_adjusted',
  LowStockAlert: 'inventory.low_stock',
  BackorderCreated: 'inventory.backorder_created',
  BackorderFulfilled: 'inventory.backorder_fulfilled',
  TransferInitiated: 'inventory.transfer_initiated',
  TransferReceived: 'inventory.transfer_received',
  TransferCancelled: 'inventory.transfer_cancelled',
  WarehouseUpdated: 'inventory.warehouse_updated',
  ProductUpdated: 'inventory.product_updated',
  ConsistencyIssueDetected: 'inventory.consistency_issue_detected',
});

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * An event as a use case hands it to the outbox: eventId and timestamp are filled in when absent,
 * and the aggregate follows from the event (see aggregateOf).
 */
export type NewEvent = DistributiveOmit<InventoryEvent, 'eventId' | 'timestamp' | 'aggregateType' | 'aggregateId'> & {
  eventId?: string;
  timestamp?: Date;
};

/**
 * What an event is about. Events of one aggregate are published in the order they were written:
 * a reservation's life, a transfer's, a backorder's, and the stock of one product at one warehouse.
 */
export function aggregateOf(event: NewEvent): { aggregateType: string; aggregateId: string } {
  switch (event.type) {
    case 'InventoryReserved':
    case 'InventoryReleased':
    case 'ReservationExpired':
    case 'ReservationTransferredOut':
    case 'ReservationTransferredIn':
      return { aggregateType: 'reservation', aggregateId: event.reservationId };
    case 'InventoryAllocated':
      if (event.reservationId) return { aggregateType: 'reservation', aggregateId: event.reservationId };
      if (event.allocationId) return { aggregateType: 'allocation', aggregateId: event.allocationId };
      return { aggregateType: 'order', aggregateId: event.orderId ?? 'unknown' };
    case 'StockAdjusted':
    case 'LowStockAlert':
      return { aggregateType: 'stock', aggregateId: `${event.productId}@${event.warehouseId}` };
    case 'BackorderCreated':
    case 'BackorderFulfilled':
      return { aggregateType: 'backorder', aggregateId: event.backorderId };
    case 'TransferInitiated':
    case 'TransferReceived':
    case 'TransferCancelled':
      return { aggregateType: 'transfer', aggregateId: event.transferId };
    case 'WarehouseUpdated':
      return { aggregateType: 'warehouse', aggregateId: event.warehouseId };
    case 'ProductUpdated':
      return { aggregateType: 'product', aggregateId: event.productId };
    case 'ConsistencyIssueDetected':
      return { aggregateType: 'consistency_finding', aggregateId: event.findingId };
  }
}

// Events other services publish and Stockroom consumes. Tolerant readers: unknown fields are ignored.

const consumedEnvelope = {
  eventId: userText(200),
  timestamp: userText(100).optional(),
};

/** An order was placed: reserve its lines (the fields and defaults of POST /inventory/reserve). */
export const orderCreatedSchema = z
  .object({
    ...consumedEnvelope,
    type: z.literal('OrderCreated'),
    orderId: externalId,
    customerId: externalId.optional(),
    items: z.array(stockLineOf('loose')).min(1).max(500),
    ...servingFields,
    timeoutMinutes: z.number().int().positive().optional(),
  })
  .refine(hasDestinationWhenNeeded, destinationWhenNeeded);

/** An order was cancelled: release what it holds. */
export const orderCancelledSchema = z.object({
  ...consumedEnvelope,
  type: z.literal('OrderCancelled'),
  orderId: externalId,
  reason: userText(500, { min: 0, multiline: true }).optional(),
});

/** An order was completed: commit (allocate) what it holds. */
export const orderCompletedSchema = z.object({
  ...consumedEnvelope,
  type: z.literal('OrderCompleted'),
  orderId: externalId,
});

/** An order was paid in full (seed 004's invoice paid): commit (allocate) what it holds, as OrderCompleted does; its units become Sold. */
export const orderPaidSchema = z.object({
  ...consumedEnvelope,
  type: z.literal('OrderPaid'),
  orderId: externalId,
});

/** An order was delivered (seed 004): ship what it has allocated; its units become Delivered. */
export const orderDeliveredSchema = z.object({
  ...consumedEnvelope,
  type: z.literal('OrderDelivered'),
  orderId: externalId,
});

export const orderEventSchema = z.discriminatedUnion('type', [
  orderCreatedSchema,
  orderCancelledSchema,
  orderCompletedSchema,
  orderPaidSchema,
  orderDeliveredSchema,
]);
export type OrderEvent = z.output<typeof orderEventSchema>;
export type OrderCreatedEvent = z.output<typeof orderCreatedSchema>;

/** The catalogue registered a product: keep a record of it. */
export const productCreatedSchema = z.object({
  ...consumedEnvelope,
  type: z.literal('ProductCreated'),
  productId: externalId,
  sku: userText(64),
  name: userText(200),
});
export type ProductCreatedEvent = z.output<typeof productCreatedSchema>;
