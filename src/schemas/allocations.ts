import { z } from 'zod';
import { priorities } from '../domain/priority';
import { strategies } from '../domain/strategies';
import { externalId, geoPointSchema, isoTimestamp, quantitySchema, referenceText, userText, uuidSchema } from './common';

/** Statuses of an allocation job, from acceptance to its end. */
export const allocationStatuses = ['queued', 'processing', 'succeeded', 'partial', 'failed', 'dead_lettered'] as const;
export type AllocationStatus = (typeof allocationStatuses)[number];

/** The statuses a job ends in once a result is written. */
export const resultStatuses = ['succeeded', 'partial', 'failed'] as const;
export type ResultStatus = (typeof resultStatuses)[number];

/** Why a line (or a whole job) was not served. */
export const failureReasons = [
  'insufficient_inventory',
  'unknown_product',
  'unknown_warehouse',
  'timeout',
  'query_failed',
  'update_failed',
  'no_allocation',
] as const;
export type FailureReason = (typeof failureReasons)[number];

export const allocationItemSchema = z.strictObject({
  productId: externalId,
  quantity: quantitySchema,
  warehouseId: externalId.optional(),
});

/** POST /allocations (SPEC §5). */
export const createAllocationBody = z
  .strictObject({
    items: z.array(allocationItemSchema).min(1).max(200),
    mode: z.enum(['reserve', 'allocate']).default('reserve'),
    strategy: z.enum(strategies).default('fifo'),
    allowPartial: z.boolean().default(false),
    allowBackorder: z.boolean().default(false),
    reservationMinutes: z.number().int().min(1).optional(),
    priority: z.enum(priorities).default('medium'),
    timeoutMs: z.number().int().min(1).max(86_400_000).optional(),
    referenceId: referenceText,
    referenceType: userText(64),
    destination: geoPointSchema.optional(),
  })
  .refine((body) => body.strategy !== 'nearest_location' || body.destination !== undefined, {
    error: 'the nearest_location strategy needs a destination',
    path: ['destination'],
  });
export type CreateAllocation = z.infer<typeof createAllocationBody>;

export const acceptedAllocationSchema = z.object({
  allocationId: uuidSchema,
  status: z.enum(allocationStatuses),
  idempotencyKey: z.string(),
  priority: z.enum(priorities),
  message: z.string(),
});
export type AcceptedAllocation = z.infer<typeof acceptedAllocationSchema>;

export const allocatedItemSchema = z.object({
  productId: z.string(),
  warehouseId: z.string(),
  lotId: uuidSchema,
  lotNumber: z.string().nullable(),
  quantity: z.number().int(),
});

export const failedItemSchema = z.object({
  productId: z.string(),
  requestedQuantity: z.number().int(),
  availableQuantity: z.number().int(),
  reason: z.string(),
  errorMessage: z.string(),
});

/** A job's final answer (SPEC §6), as stored in allocation_results.result and served. */
export const allocationResultSchema = z.object({
  allocationId: uuidSchema,
  status: z.enum(resultStatuses),
  allocatedItems: z.array(allocatedItemSchema),
  failedItems: z.array(failedItemSchema),
  totalRequested: z.number().int(),
  totalAllocated: z.number().int(),
  reservationId: uuidSchema.optional(),
  backorderIds: z.array(uuidSchema).optional(),
  executionTimeMs: z.number().int(),
  idempotencyKey: z.string(),
  createdAt: isoTimestamp,
  completedAt: isoTimestamp,
});
export type AllocationResult = z.infer<typeof allocationResultSchema>;

/** GET /allocations/:id: where a job stands, and its result once it has one. */
export const allocationViewSchema = z.object({
  allocationId: uuidSchema,
  status: z.enum(allocationStatuses),
  priority: z.enum(priorities),
  mode: z.enum(['reserve', 'allocate']),
  referenceId: z.string(),
  referenceType: z.string(),
  idempotencyKey: z.string(),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  deadlineAt: isoTimestamp.nullable(),
  createdAt: isoTimestamp,
  startedAt: isoTimestamp.nullable(),
  updatedAt: isoTimestamp,
  result: allocationResultSchema.nullable(),
});
export type AllocationView = z.infer<typeof allocationViewSchema>;

export const listAllocationsQuery = z.object({
  referenceId: referenceText,
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

/** The body of an allocation job message: the job itself lives in allocation_requests. */
export const allocationMessageSchema = z.object({ allocationId: uuidSchema });
export type AllocationMessage = z.infer<typeof allocationMessageSchema>;

export const deadLetterStatuses = ['open', 'replayed'] as const;

export const deadLetterSchema = z.object({
  id: uuidSchema,
  queue: z.string(),
  allocationId: uuidSchema.nullable(),
  reason: z.string(),
  attempts: z.number().int(),
  firstError: z.string().nullable(),
  lastError: z.string().nullable(),
  payload: z.unknown(),
  headers: z.record(z.string(), z.unknown()),
  status: z.enum(deadLetterStatuses),
  createdAt: isoTimestamp,
  replayedAt: isoTimestamp.nullable(),
});
export type DeadLetter = z.infer<typeof deadLetterSchema>;

export const listDeadLettersQuery = z.object({
  status: z.enum(deadLetterStatuses).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
