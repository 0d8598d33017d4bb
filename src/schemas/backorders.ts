import { z } from 'zod';
import { priorities } from '../domain/priority';
import { strategies } from '../domain/strategies';
import { cursorPageQuery, externalId, isoTimestamp, ownerQuery, rangeInOrder, uuidSchema, valueList } from './common';

export const backorderStatuses = ['OPEN', 'FULFILLED', 'CANCELLED'] as const;

/** A backorder: units a request could not get, waiting for stock. */
export const backorderSchema = z.object({
  id: z.string(),
  /** whose backorder it is: the owner of the request that left it */
  owner: z.string(),
  productId: z.string(),
  warehouseId: z.string().nullable(),
  quantity: z.number().int(),
  fulfilledQuantity: z.number().int(),
  status: z.enum(backorderStatuses),
  mode: z.enum(['reserve', 'allocate']),
  priority: z.enum(priorities),
  strategy: z.enum(strategies),
  reservationId: z.string().nullable(),
  allocationId: z.string().nullable(),
  referenceType: z.string().nullable(),
  referenceId: z.string().nullable(),
  customerId: z.string().nullable(),
  createdAt: isoTimestamp,
  updatedAt: isoTimestamp,
});
export type Backorder = z.output<typeof backorderSchema>;

/** GET /backorders: by product, warehouse, status, order, reservation and creation time, in the order fills serve them. */
export const listBackordersQuery = z
  .strictObject({
    owner: ownerQuery.optional(),
    productId: externalId.optional(),
    warehouseId: externalId.optional(),
    status: valueList(backorderStatuses).optional(),
    priority: valueList(priorities).optional(),
    orderId: externalId.optional(),
    referenceId: externalId.optional(),
    reservationId: uuidSchema.optional(),
    createdFrom: isoTimestamp.optional(),
    createdTo: isoTimestamp.optional(),
    ...cursorPageQuery,
    offset: z.coerce.number().int().min(0).optional(),
  })
  .refine((query) => query.orderId === undefined || query.referenceId === undefined, {
    error: 'orderId and referenceId name the same thing; give one',
    path: ['referenceId'],
  })
  .refine((query) => query.cursor === undefined || query.offset === undefined, { error: 'page with cursor or with offset, not both', path: ['offset'] })
  .refine((query) => rangeInOrder(query.createdFrom, query.createdTo), { error: 'createdFrom must not be after createdTo', path: ['createdFrom'] });
export type ListBackordersQuery = z.output<typeof listBackordersQuery>;

/** One page of backorders; `nextCursor` is null on the last page. */
export const backorderPageSchema = z.object({
  items: z.array(backorderSchema),
  limit: z.number().int(),
  offset: z.number().int(),
  nextCursor: uuidSchema.nullable(),
});
export type BackorderPage = z.output<typeof backorderPageSchema>;

export const backorderIdParams = z.strictObject({ id: uuidSchema });
