import { z } from 'zod';
import { reservationStatuses } from '../domain/reservation';
import { priorities } from '../domain/priority';
import { strategies } from '../domain/strategies';
import {
  cursorPageQuery,
  destinationWhenNeeded,
  externalId,
  hasDestinationWhenNeeded,
  isoTimestamp,
  ownerQuery,
  quantitySchema,
  rangeInOrder,
  servingFields,
  stockLineOf,
  unavailableSerialsSchema,
  userText,
  uuidSchema,
  valueList,
} from './common';

/** One lot's share of a reservation item. */
export const reservationLotSchema = z.object({
  lotId: z.string(),
  lotNumber: z.string().nullable(),
  quantity: z.number().int(),
});

/** The units of one product taken at one warehouse; `reserved` is true while none of them were released, `released` once some were. */
export const reservationItemSchema = z.object({
  productId: z.string(),
  warehouseId: z.string(),
  quantity: z.number().int(),
  reserved: z.boolean(),
  released: z.boolean(),
  lots: z.array(reservationLotSchema),
});

/** The reservation answer of SPEC section 6 (seed 002). */
export const reservationViewSchema = z.object({
  reservationId: z.string(),
  orderId: z.string(),
  status: z.enum(reservationStatuses),
  items: z.array(reservationItemSchema),
  expiresAt: isoTimestamp,
  createdAt: isoTimestamp,
});
export type ReservationView = z.output<typeof reservationViewSchema>;

/** A line of a request that could not be served in full. */
export const shortfallSchema = z.object({
  lineIndex: z.number().int(),
  productId: z.string(),
  requestedQuantity: z.number().int(),
  availableQuantity: z.number().int(),
  reason: z.enum(['insufficient_inventory', 'unknown_product', 'product_discontinued', 'serials_unavailable']),
  errorMessage: z.string(),
  /** with serials_unavailable: the units named that cannot be had */
  unavailableSerials: unavailableSerialsSchema.optional(),
});

/** A backorder as a request's answer names it. */
export const backorderRefSchema = z.object({
  id: z.string(),
  productId: z.string(),
  warehouseId: z.string().nullable(),
  quantity: z.number().int(),
});

/** 201 of reserve and of direct allocate: the reservation, and what was short or backordered. */
export const reserveAnswerSchema = reservationViewSchema.extend({
  shortfall: z.array(shortfallSchema),
  backorders: z.array(backorderRefSchema),
});
export type ReserveAnswer = z.output<typeof reserveAnswerSchema>;

/** 202 of reserve and of direct allocate: nothing could be taken now, everything was backordered. */
export const backorderedAnswerSchema = z.object({
  reservationId: z.null(),
  orderId: z.string(),
  status: z.literal('BACKORDERED'),
  shortfall: z.array(shortfallSchema),
  backorders: z.array(backorderRefSchema),
});
export type BackorderedAnswer = z.output<typeof backorderedAnswerSchema>;

export const serveAnswerSchema = z.union([reserveAnswerSchema, backorderedAnswerSchema]);
export type ServeAnswer = z.output<typeof serveAnswerSchema>;

/** What reserve and direct allocate share: the order, its lines, and how to serve them. */
const serveFields = {
  orderId: externalId,
  customerId: externalId.optional(),
  items: z.array(stockLineOf('strict')).min(1).max(500),
  ...servingFields,
};

/** The bound of timeoutMinutes is RESERVATION_MAX_MINUTES, checked by the use case (it is configuration). */
export const reserveBody = z
  .strictObject({ ...serveFields, timeoutMinutes: z.number().int().positive().optional() })
  .refine(hasDestinationWhenNeeded, destinationWhenNeeded);
export type ReserveInput = z.output<typeof reserveBody>;

const versionField = { version: z.number().int().min(0).optional() };

export const releaseBody = z.strictObject({ reservationId: uuidSchema, reason: userText(200, { multiline: true }).optional(), ...versionField });
export type ReleaseInput = z.output<typeof releaseBody>;

const productQuantity = z.strictObject({ productId: externalId, quantity: quantitySchema });

/** Allocate a reservation (whole, or the named quantities with the rest released). */
export const allocateReservationBody = z.strictObject({
  reservationId: uuidSchema,
  items: z.array(productQuantity).min(1).max(500).optional(),
  ...versionField,
});
export type AllocateReservationInput = z.output<typeof allocateReservationBody>;

/** Allocate directly, without a reservation first. */
export const allocateDirectBody = z.strictObject(serveFields).refine(hasDestinationWhenNeeded, destinationWhenNeeded);
export type AllocateDirectInput = z.output<typeof allocateDirectBody>;

export const allocateBody = z.union([allocateReservationBody, allocateDirectBody]);

export const shipBody = z.strictObject({
  reservationId: uuidSchema,
  items: z.array(productQuantity).min(1).max(500).optional(),
  ...versionField,
});
export type ShipInput = z.output<typeof shipBody>;

/** The bound of minutes is RESERVATION_MAX_MINUTES, checked by the use case. */
export const extendBody = z.strictObject({ minutes: z.number().int().positive(), ...versionField });
export type ExtendInput = z.output<typeof extendBody>;

export const reservationIdParams = z.strictObject({ id: uuidSchema });

/**
 * POST /inventory/reservations/:id/transfer: move held units to a new reservation of `orderId`.
 * Without items, everything the reservation holds moves. The bound of timeoutMinutes is
 * RESERVATION_MAX_MINUTES, checked by the use case; without it the new hold ends when the old one does.
 */
export const transferReservationBody = z.strictObject({
  orderId: externalId,
  customerId: externalId.optional(),
  items: z.array(stockLineOf('strict')).min(1).max(500).optional(),
  timeoutMinutes: z.number().int().positive().optional(),
  reason: userText(200, { multiline: true }).optional(),
  ...versionField,
});
export type TransferReservationInput = z.output<typeof transferReservationBody>;

/** One lot of a reservation and what became of its units. */
export const reservationLotDetailSchema = reservationLotSchema.extend({
  reservedQuantity: z.number().int(),
  allocatedQuantity: z.number().int(),
  shippedQuantity: z.number().int(),
  releasedQuantity: z.number().int(),
  /** units moved to another reservation (POST /inventory/reservations/:id/transfer) */
  movedQuantity: z.number().int(),
});

export const statusChangeSchema = z.object({
  fromStatus: z.enum(reservationStatuses).nullable(),
  toStatus: z.enum(reservationStatuses),
  reason: z.string().nullable(),
  reference: z.string().nullable(),
  actor: z.string(),
  at: isoTimestamp,
});

/** GET of a reservation, and the answer of every transition: lines per lot and the status history. */
export const reservationDetailSchema = reservationViewSchema.extend({
  /** whose reservation it is: the `tenant` (else `sub`) of the token that made it, or the owner an order service's events act for */
  owner: z.string(),
  customerId: z.string().nullable(),
  priority: z.enum(priorities),
  strategy: z.enum(strategies),
  version: z.number().int(),
  updatedAt: isoTimestamp,
  /** when the reservation was released (status RELEASED), else null */
  releasedAt: isoTimestamp.nullable(),
  items: z.array(reservationItemSchema.extend({ lots: z.array(reservationLotDetailSchema) })),
  history: z.array(statusChangeSchema),
});
export type ReservationDetail = z.output<typeof reservationDetailSchema>;

/** 201 of POST /inventory/reservations/:id/transfer: the reservation the units left, and the new one holding them. */
export const reservationTransferAnswerSchema = z.object({ from: reservationDetailSchema, to: reservationDetailSchema });
export type ReservationTransferAnswer = z.output<typeof reservationTransferAnswerSchema>;

/** A reservation in a listing: its lots and what became of their units, without the status history. */
export const reservationSummarySchema = reservationDetailSchema.omit({ history: true });
export type ReservationSummary = z.output<typeof reservationSummarySchema>;

/** GET /inventory/reservations: by order, status, product, warehouse, creation and expiry time; newest first, by cursor. */
export const listReservationsQuery = z
  .strictObject({
    owner: ownerQuery.optional(),
    orderId: externalId.optional(),
    status: valueList(reservationStatuses).optional(),
    productId: externalId.optional(),
    warehouseId: externalId.optional(),
    createdFrom: isoTimestamp.optional(),
    createdTo: isoTimestamp.optional(),
    expiresFrom: isoTimestamp.optional(),
    expiresTo: isoTimestamp.optional(),
    ...cursorPageQuery,
  })
  .refine((query) => rangeInOrder(query.createdFrom, query.createdTo), { error: 'createdFrom must not be after createdTo', path: ['createdFrom'] })
  .refine((query) => rangeInOrder(query.expiresFrom, query.expiresTo), { error: 'expiresFrom must not be after expiresTo', path: ['expiresFrom'] });
export type ListReservationsQuery = z.output<typeof listReservationsQuery>;

/** One page of reservations; `nextCursor` is null on the last page. */
export const reservationPageSchema = z.object({ items: z.array(reservationSummarySchema), nextCursor: uuidSchema.nullable() });
export type ReservationPage = z.output<typeof reservationPageSchema>;
