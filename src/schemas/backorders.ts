import { z } from 'zod';
import { priorities, strategies } from '../domain/strategies';
import { externalId, isoTimestamp, paginationQuery, uuidSchema } from './common';

export const backorderStatuses = ['OPEN', 'FULFILLED', 'CANCELLED'] as const;

/** A backorder: units a request could not get, waiting for stock. */
export const backorderSchema = z.object({
  id: z.string(),
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

export const listBackordersQuery = paginationQuery.extend({
  productId: externalId.optional(),
  status: z.enum(backorderStatuses).optional(),
  referenceId: externalId.optional(),
});

export const backorderIdParams = z.strictObject({ id: uuidSchema });
