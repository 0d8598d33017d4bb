import { z } from 'zod';
import { transferStatuses } from '../domain/transfer';
import { cursorPageQuery, externalId, isoTimestamp, quantitySchema, rangeInOrder, reasonText, referenceText, uuidSchema, valueList } from './common';

const transferItem = z.strictObject({
  productId: externalId,
  quantity: quantitySchema,
  lotId: uuidSchema.optional(),
  fromWarehouseId: externalId.optional(),
  toWarehouseId: externalId.optional(),
});

/**
 * POST /inventory/transfer. The warehouses are named on the transfer or, as seed 002 sends them, on
 * every item; either way one transfer moves stock between one pair of warehouses.
 */
export const transferBody = z
  .strictObject({
    fromWarehouseId: externalId.optional(),
    toWarehouseId: externalId.optional(),
    items: z.array(transferItem).min(1).max(500),
    reference: referenceText.optional(),
    reason: reasonText.optional(),
    expectedDelivery: isoTimestamp.optional(),
  })
  .transform((body, ctx) => {
    const ends = { fromWarehouseId: new Set<string>(), toWarehouseId: new Set<string>() };
    body.items.forEach((item, index) => {
      for (const end of ['fromWarehouseId', 'toWarehouseId'] as const) {
        const warehouseId = item[end] ?? body[end];
        if (warehouseId === undefined) ctx.addIssue({ code: 'custom', message: `give ${end} on the transfer or on each item`, path: ['items', index, end] });
        else ends[end].add(warehouseId);
      }
    });
    const [fromWarehouseId, ...otherSources] = ends.fromWarehouseId;
    const [toWarehouseId, ...otherDestinations] = ends.toWarehouseId;
    if (otherSources.length > 0 || otherDestinations.length > 0) {
      ctx.addIssue({ code: 'custom', message: 'a transfer moves stock between one pair of warehouses; send one transfer per pair', path: ['items'] });
    }
    if (fromWarehouseId === undefined || toWarehouseId === undefined || otherSources.length > 0 || otherDestinations.length > 0) return z.NEVER;
    if (fromWarehouseId === toWarehouseId) {
      ctx.addIssue({ code: 'custom', message: 'a transfer needs two different warehouses', path: ['toWarehouseId'] });
      return z.NEVER;
    }
    return {
      fromWarehouseId,
      toWarehouseId,
      items: body.items.map(({ productId, quantity, lotId }) => ({ productId, quantity, ...(lotId === undefined ? {} : { lotId }) })),
      reference: body.reference ?? null,
      reason: body.reason ?? null,
      expectedDelivery: body.expectedDelivery ?? null,
    };
  })
  .meta({
    example: {
      items: [{ productId: '550e8400-e29b-41d4-a716-446655440000', quantity: 10, fromWarehouseId: 'wh-001', toWarehouseId: 'wh-002' }],
      reason: 'Balancing inventory levels',
      expectedDelivery: '2024-01-17T10:00:00Z',
    },
  });
export type TransferBody = z.output<typeof transferBody>;

/** Units that arrived: of a product (shared over its lines in order) or of one line. */
const arrivalSchema = z.union([
  z.strictObject({ productId: externalId, quantity: quantitySchema }),
  z.strictObject({ lineId: uuidSchema, quantity: quantitySchema }),
]);

/** POST /inventory/transfers/:id/receive; without a body everything still on its way arrives. */
export const receiveTransferBody = z
  .strictObject({
    items: z.array(arrivalSchema).max(500).optional(),
    complete: z.boolean().default(false),
    reason: reasonText.optional(),
  })
  .refine((body) => body.items === undefined || body.items.length > 0 || body.complete, {
    error: 'name what arrived, or set complete to close the transfer with nothing more arriving',
    path: ['items'],
  })
  .refine((body) => body.reason === undefined || body.complete, { error: 'reason explains a shortage: give it with complete', path: ['reason'] })
  .meta({ example: { items: [{ productId: '550e8400-e29b-41d4-a716-446655440000', quantity: 8 }], complete: true, reason: 'two cartons damaged in transit' } })
  // a call without a body arrives as null
  .nullish();
export type ReceiveTransferBody = z.output<typeof receiveTransferBody>;

/** POST /inventory/transfers/:id/cancel. */
export const cancelTransferBody = z
  .strictObject({ reason: reasonText.optional() })
  .meta({ example: { reason: 'sent to the wrong site' } })
  .nullish();
export type CancelTransferBody = z.output<typeof cancelTransferBody>;

/** GET /inventory/transfers: by status, warehouse, product, overdue and creation time; newest first, by cursor. */
export const listTransfersQuery = z
  .strictObject({
    status: valueList(transferStatuses).optional(),
    fromWarehouseId: externalId.optional(),
    toWarehouseId: externalId.optional(),
    warehouseId: externalId.optional(),
    productId: externalId.optional(),
    overdue: z
      .enum(['true', 'false'])
      .transform((value) => value === 'true')
      .optional(),
    createdFrom: isoTimestamp.optional(),
    createdTo: isoTimestamp.optional(),
    ...cursorPageQuery,
  })
  .refine((query) => rangeInOrder(query.createdFrom, query.createdTo), { error: 'createdFrom must not be after createdTo', path: ['createdFrom'] });
export type ListTransfersQuery = z.output<typeof listTransfersQuery>;

/** What became of units of a transfer: arrived, short on arrival, back at the source (cancelled), still on their way. */
const progressFields = {
  receivedQuantity: z.number().int(),
  shortQuantity: z.number().int(),
  returnedQuantity: z.number().int(),
  inTransitQuantity: z.number().int(),
};

const exampleTransfer = {
  transferId: '01a2317a-5c2e-7b41-9f0e-2d6c8e1b3d5f',
  status: 'PARTIALLY_RECEIVED',
  fromWarehouseId: 'wh-001',
  toWarehouseId: 'wh-002',
  reference: null,
  reason: 'Balancing inventory levels',
  initiatedBy: 'ops-1',
  initiatedAt: '2024-01-15T11:00:00.000Z',
  expectedDelivery: '2024-01-17T10:00:00.000Z',
  overdue: false,
  receivedAt: null,
  cancelledAt: null,
  cancelReason: null,
  updatedAt: '2024-01-16T09:12:00.000Z',
  totalQuantity: 10,
  receivedQuantity: 6,
  shortQuantity: 0,
  returnedQuantity: 0,
  inTransitQuantity: 4,
  items: [
    {
      productId: '550e8400-e29b-41d4-a716-446655440000',
      quantity: 10,
      fromWarehouse: { id: 'wh-001', previousQuantity: 30, newQuantity: 20 },
      toWarehouse: { id: 'wh-002', expectedQuantity: 35 },
      receivedQuantity: 6,
      shortQuantity: 0,
      returnedQuantity: 0,
      inTransitQuantity: 4,
    },
  ],
  lines: [
    {
      lineId: '01a2317a-5c31-7d02-8a4b-6c637cebb00a',
      productId: '550e8400-e29b-41d4-a716-446655440000',
      quantity: 10,
      receivedQuantity: 6,
      shortQuantity: 0,
      returnedQuantity: 0,
      inTransitQuantity: 4,
      sourceLotId: '01a2316f-0d11-769f-8ddf-7d85dd4acb11',
      destinationLotId: '01a2317f-9e20-754b-b70c-5fa256cb2f97',
      lotNumber: 'LOT-A',
      unitCost: 2.5,
      receivedAt: '2023-12-01T08:00:00.000Z',
      expiresAt: null,
    },
  ],
};

/** A transfer, with seed 002's fromWarehouse / toWarehouse per product and what became of every line. */
export const transferSchema = z
  .object({
    transferId: z.string(),
    status: z.enum(transferStatuses),
    fromWarehouseId: z.string(),
    toWarehouseId: z.string(),
    reference: z.string().nullable(),
    reason: z.string().nullable(),
    initiatedBy: z.string(),
    initiatedAt: isoTimestamp,
    expectedDelivery: isoTimestamp.nullable(),
    overdue: z.boolean(),
    receivedAt: isoTimestamp.nullable(),
    cancelledAt: isoTimestamp.nullable(),
    cancelReason: z.string().nullable(),
    updatedAt: isoTimestamp,
    totalQuantity: z.number().int(),
    ...progressFields,
    items: z.array(
      z.object({
        productId: z.string(),
        quantity: z.number().int(),
        /** on hand of the product at the source before and after the units left */
        fromWarehouse: z.object({ id: z.string(), previousQuantity: z.number().int().nullable(), newQuantity: z.number().int().nullable() }),
        /** on hand of the product at the destination once the units arrive, as it stood when they were sent */
        toWarehouse: z.object({ id: z.string(), expectedQuantity: z.number().int().nullable() }),
        ...progressFields,
      }),
    ),
    lines: z.array(
      z.object({
        lineId: z.string(),
        productId: z.string(),
        quantity: z.number().int(),
        ...progressFields,
        sourceLotId: z.string(),
        destinationLotId: z.string().nullable(),
        lotNumber: z.string().nullable(),
        unitCost: z.number().nullable(),
        receivedAt: isoTimestamp,
        expiresAt: isoTimestamp.nullable(),
      }),
    ),
  })
  .meta({ example: exampleTransfer });
export type TransferView = z.output<typeof transferSchema>;

/** One page of transfers; `nextCursor` is null on the last page. */
export const transferPageSchema = z.object({ items: z.array(transferSchema), nextCursor: uuidSchema.nullable() });
export type TransferPage = z.output<typeof transferPageSchema>;

export const transferParams = z.strictObject({ id: uuidSchema });
