import { z } from 'zod';
import { priorities } from '../domain/priority';
import { strategies, type GeoPoint, type Strategy } from '../domain/strategies';
import {
  cursorPageQuery,
  destinationWhenNeeded,
  errorBodySchema,
  hasDestinationWhenNeeded,
  idempotencyKeyText,
  isoTimestamp,
  ownerQuery,
  rangeInOrder,
  referenceText,
  servingFields,
  stockLineOf,
  timeRangeQuery,
  unavailableSerialsSchema,
  userText,
  uuidSchema,
  valueList,
} from './common';

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
  'product_discontinued',
  'serials_unavailable',
  'unknown_warehouse',
  'timeout',
  'query_failed',
  'update_failed',
  'no_allocation',
] as const;
export type FailureReason = (typeof failureReasons)[number];

export const allocationItemSchema = stockLineOf('strict');

/** POST /allocations (SPEC §5). */
export const createAllocationBody = z
  .strictObject({
    items: z.array(allocationItemSchema).min(1).max(200),
    mode: z.enum(['reserve', 'allocate']).default('reserve'),
    ...servingFields,
    reservationMinutes: z.number().int().min(1).optional(),
    timeoutMs: z.number().int().min(1).max(86_400_000).optional(),
    referenceId: referenceText,
    referenceType: userText(64),
  })
  .refine(hasDestinationWhenNeeded, destinationWhenNeeded);
export type CreateAllocation = z.infer<typeof createAllocationBody>;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
const isOneOf = (values: readonly string[], value: unknown): boolean => typeof value === 'string' && values.includes(value);

function isStoredItem(item: unknown): boolean {
  if (!isRecord(item) || typeof item.productId !== 'string' || !isCount(item.quantity)) return false;
  if (item.warehouseId !== undefined && typeof item.warehouseId !== 'string') return false;
  const serials = item.serialNumbers;
  return serials === undefined || (Array.isArray(serials) && serials.length === item.quantity && serials.every((serial) => typeof serial === 'string'));
}

function isGeoPoint(value: unknown): value is GeoPoint {
  return isRecord(value) && typeof value.latitude === 'number' && typeof value.longitude === 'number';
}

/**
 * Whether a job's stored request has the shape the worker's code relies on: types, enums, defaults
 * filled in, a destination where the strategy needs one. The intake stores only what
 * createAllocationBody parsed, so this cheap check stands in for parsing every bound again; a
 * request failing it (a row damaged or written by an older version) is parsed in full, to be
 * served or dead-lettered with the schema's own issues.
 */
export function isStoredAllocation(value: unknown): value is CreateAllocation {
  if (!isRecord(value) || !Array.isArray(value.items) || value.items.length === 0 || !value.items.every(isStoredItem)) return false;
  const { destination } = value;
  return (
    isOneOf(['reserve', 'allocate'], value.mode) &&
    isOneOf(strategies, value.strategy) &&
    isOneOf(priorities, value.priority) &&
    typeof value.allowPartial === 'boolean' &&
    typeof value.allowBackorder === 'boolean' &&
    typeof value.referenceId === 'string' &&
    typeof value.referenceType === 'string' &&
    (value.reservationMinutes === undefined || isCount(value.reservationMinutes)) &&
    (destination === undefined || isGeoPoint(destination)) &&
    hasDestinationWhenNeeded({ strategy: value.strategy as Strategy, destination })
  );
}

export const acceptedAllocationSchema = z.object({
  allocationId: uuidSchema,
  status: z.enum(allocationStatuses),
  idempotencyKey: z.string(),
  priority: z.enum(priorities),
  message: z.string(),
});
export type AcceptedAllocation = z.infer<typeof acceptedAllocationSchema>;

/** The most jobs one POST /allocations/batch takes. */
export const allocationBatchLimit = 1000;

/** One job of POST /allocations/batch: the body POST /allocations takes, under its own Idempotency-Key (one is generated when it has none). */
export const allocationBatchEntrySchema = z.strictObject({
  idempotencyKey: idempotencyKeyText.optional(),
  request: createAllocationBody,
});

/**
 * POST /allocations/batch: up to allocationBatchLimit jobs. Only this envelope is checked as a whole;
 * each entry is checked on its own against AllocationBatchEntry (and refused on its own), so the
 * entries are taken as any JSON here and documented as that component.
 */
export const allocationBatchBody = z.strictObject({
  jobs: z
    .array(z.unknown().meta({ $ref: '#/components/schemas/AllocationBatchEntryInput' }))
    .min(1)
    .max(allocationBatchLimit),
});
export type AllocationBatch = z.infer<typeof allocationBatchBody>;

/** A job of a batch that was accepted: the 202 body POST /allocations answers, and whether its key had accepted it before. */
export const allocationBatchAcceptedSchema = z.object({
  index: z.number().int().min(0),
  status: z.literal(202),
  replayed: z.boolean(),
  body: acceptedAllocationSchema,
});

/** A job of a batch that was refused (nothing recorded for it): the status and error body POST /allocations would answer. */
export const allocationBatchRefusedSchema = z.object({
  index: z.number().int().min(0),
  status: z.number().int().min(400).max(599),
  replayed: z.literal(false),
  body: errorBodySchema,
});

/** The answer of POST /allocations/batch: one result per job, in the order sent. */
export const allocationBatchResultSchema = z
  .object({
    accepted: z.number().int().min(0),
    refused: z.number().int().min(0),
    results: z.array(z.union([allocationBatchAcceptedSchema, allocationBatchRefusedSchema])),
  })
  .meta({
    example: {
      accepted: 1,
      refused: 1,
      results: [
        {
          index: 0,
          status: 202,
          replayed: false,
          body: {
            allocationId: '0190f5e2-7c1a-7b3e-9d4f-2a6c8e1b3d5f',
            status: 'queued',
            idempotencyKey: 'order-1001-reserve',
            priority: 'medium',
            message: 'Allocation request queued for processing',
          },
        },
        {
          index: 1,
          status: 400,
          replayed: false,
          body: {
            error: {
              code: 'VALIDATION_FAILED',
              message: 'Invalid job at index 1',
              details: { index: 1, issues: [{ path: 'request.items.0.quantity', message: 'Too small: expected number to be >0', code: 'too_small' }] },
            },
          },
        },
      ],
    },
  });
export type AllocationBatchResult = z.infer<typeof allocationBatchResultSchema>;
export type AllocationBatchEntryResult = AllocationBatchResult['results'][number];

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
  unavailableSerials: unavailableSerialsSchema.optional(),
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
/** A result in its JSON form, as allocation_results.result keeps it: times as ISO text. */
export type AllocationResultJson = z.input<typeof allocationResultSchema>;

/** GET /allocations/:id: where a job stands, and its result once it has one. */
export const allocationViewSchema = z.object({
  allocationId: uuidSchema,
  /** whose job it is: the `tenant` (else `sub`) of the token that queued it */
  owner: z.string(),
  status: z.enum(allocationStatuses),
  priority: z.enum(priorities),
  mode: z.enum(['reserve', 'allocate']),
  referenceId: z.string(),
  referenceType: z.string(),
  idempotencyKey: z.string(),
  /** The x-request-id of the call that accepted the job (null for jobs accepted before it was kept). */
  requestId: z.string().nullable(),
  /** The request as accepted, defaults filled in. */
  request: createAllocationBody,
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  deadlineAt: isoTimestamp.nullable(),
  createdAt: isoTimestamp,
  startedAt: isoTimestamp.nullable(),
  updatedAt: isoTimestamp,
  result: allocationResultSchema.nullable(),
});
export type AllocationView = z.infer<typeof allocationViewSchema>;

/** GET /allocations: jobs by id, reference, status, priority and acceptance time, newest first. */
export const listAllocationsQuery = z
  .strictObject({
    owner: ownerQuery.optional(),
    id: uuidSchema.optional(),
    referenceId: referenceText.optional(),
    status: valueList(allocationStatuses).optional(),
    priority: valueList(priorities).optional(),
    ...timeRangeQuery,
    ...cursorPageQuery,
  })
  .refine((query) => rangeInOrder(query.from, query.to), { error: 'from must not be after to', path: ['from'] });
export type AllocationSearch = z.infer<typeof listAllocationsQuery>;

/** A page of GET /allocations. */
export const allocationPageSchema = z.object({ items: z.array(allocationViewSchema), nextCursor: uuidSchema.nullable() });

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

/** Which dead letters a listing, a bulk replay or a bulk purge takes: every field narrows it. */
const deadLetterFilterFields = {
  status: z.enum(deadLetterStatuses).optional(),
  reason: userText(200).optional(),
  queue: userText(255).optional(),
  ...timeRangeQuery,
};

/** GET /admin/dead-letters: newest first, by status, reason, queue and time dead-lettered. */
export const listDeadLettersQuery = z
  .strictObject({ ...deadLetterFilterFields, ...cursorPageQuery })
  .refine((query) => rangeInOrder(query.from, query.to), { error: 'from must not be after to', path: ['from'] });
export type DeadLetterSearch = z.infer<typeof listDeadLettersQuery>;

/** A page of GET /admin/dead-letters. */
export const deadLetterPageSchema = z.object({ items: z.array(deadLetterSchema), nextCursor: uuidSchema.nullable() });

/** The most dead letters one bulk call touches; a larger selection is worked through in several calls. */
export const bulkDeadLetterLimit = 500;

/**
 * POST /admin/dead-letters/replay and /purge: the letters named by `ids`, or those matching the
 * filter (at least one field of it, so an empty body never touches everything). `dryRun` only counts.
 */
export const bulkDeadLetterBody = z
  .strictObject({
    ids: z.array(uuidSchema).min(1).max(bulkDeadLetterLimit).optional(),
    ...deadLetterFilterFields,
    dryRun: z.boolean().default(false),
  })
  .refine((query) => rangeInOrder(query.from, query.to), { error: 'from must not be after to', path: ['from'] })
  .refine(
    (body) => body.ids !== undefined || Object.keys(deadLetterFilterFields).some((field) => body[field as keyof typeof deadLetterFilterFields] !== undefined),
    {
      error: 'name the dead letters: ids, or at least one of status, reason, queue, from, to',
      path: ['ids'],
    },
  );
export type BulkDeadLetterSelection = z.infer<typeof bulkDeadLetterBody>;

/** What a bulk call did (or, in a dry run, would do) to each letter. */
export const bulkDeadLetterAnswer = z.object({
  dryRun: z.boolean(),
  matched: z.number().int(),
  done: z.number().int(),
  remaining: z.number().int(),
  items: z.array(
    z.object({
      id: uuidSchema,
      outcome: z.enum(['replayed', 'purged', 'would_replay', 'would_purge', 'failed']),
      error: z.object({ code: z.string(), message: z.string() }).optional(),
    }),
  ),
});
export type BulkDeadLetterAnswer = z.infer<typeof bulkDeadLetterAnswer>;
