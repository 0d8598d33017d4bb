/** Shapes of the consistency monitor's admin calls and of GET /health/details. */
import { z } from 'zod';
import { findingKinds, findingSubjects, remedyActions, type FindingKind } from '../domain/consistency';
import { cursorPageQuery, externalId, isoTimestamp, ownerQuery, userText, uuidSchema, valueList } from './common';
import { readinessSchema } from './health';

const exampleFinding = {
  id: '01936fb4-3e62-7c77-8a43-f5a6b7c8d9ea',
  kind: 'overdue_hold',
  subjectType: 'reservation',
  subjectId: '01936fa0-1b2c-7d3e-8f40-5a6b7c8d9e0f',
  detail: { owner: 'checkout', orderId: 'ORD-12345', expiresAt: '2024-01-15T10:30:00.000Z', createdAt: '2024-01-15T10:00:00.000Z' },
  open: true,
  firstSeenAt: '2024-01-15T11:00:00.000Z',
  lastSeenAt: '2024-01-15T12:00:00.000Z',
  resolvedAt: null,
  resolution: null,
};

/** A stored finding of the consistency check. */
export const findingSchema = z
  .object({
    id: uuidSchema,
    kind: z.enum(findingKinds),
    subjectType: z.enum(findingSubjects),
    subjectId: z.string(),
    detail: z.record(z.string(), z.unknown()),
    open: z.boolean(),
    firstSeenAt: isoTimestamp,
    lastSeenAt: isoTimestamp,
    resolvedAt: isoTimestamp.nullable(),
    resolution: z.string().nullable(),
  })
  .meta({ example: exampleFinding });
export type Finding = z.output<typeof findingSchema>;

/** GET /admin/consistency: by kind (one or a comma-separated list), open or resolved, subject; newest first, by cursor. */
export const listFindingsQuery = z.strictObject({
  kind: valueList(findingKinds).optional(),
  open: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional(),
  subjectType: z.enum(findingSubjects).optional(),
  subjectId: userText(200).optional(),
  ...cursorPageQuery,
});
export type FindingSearch = z.output<typeof listFindingsQuery>;

/** A page of GET /admin/consistency. */
export const findingPageSchema = z.object({ items: z.array(findingSchema), nextCursor: uuidSchema.nullable() });

/** Open findings, by every kind (0 for a kind with none). */
const openCount = z.number().int().min(0);
export const openByKindSchema = z.object({
  overdue_hold: openCount,
  cancelled_order_hold: openCount,
  ledger_mismatch: openCount,
  stuck_job: openCount,
  long_hold: openCount,
  unit_mismatch: openCount,
} satisfies Record<FindingKind, z.ZodNumber>);
export type OpenByKind = z.output<typeof openByKindSchema>;

/** The most findings an answer of POST /admin/consistency/check lists; GET /admin/consistency?open=true pages through the rest. */
export const checkAnswerFindingLimit = 100;

/** POST /admin/consistency/check: what the check did, the open findings by kind, and the open findings themselves (newest first). */
export const checkResultSchema = z.object({
  checkedAt: isoTimestamp,
  appeared: z.number().int(),
  seenAgain: z.number().int(),
  resolved: z.number().int(),
  openByKind: openByKindSchema,
  findings: z.array(findingSchema),
  nextCursor: uuidSchema.nullable(),
});
export type CheckResult = z.output<typeof checkResultSchema>;

const exampleFixResult = {
  findingId: exampleFinding.id,
  kind: 'overdue_hold',
  subjectType: 'reservation',
  subjectId: exampleFinding.subjectId,
  outcome: 'fixed',
  action: 'expire',
  message: 'the hold was expired: its stock is available again',
};

export const fixOutcomes = ['fixed', 'not_fixable', 'no_longer_present', 'already_resolved'] as const;

/** What a fix call did about one inconsistency. */
export const fixResultSchema = z
  .object({
    findingId: uuidSchema.nullable(),
    kind: z.enum(findingKinds),
    subjectType: z.enum(findingSubjects),
    subjectId: z.string(),
    outcome: z.enum(fixOutcomes),
    action: z.enum(remedyActions).nullable(),
    message: z.string(),
  })
  .meta({ example: exampleFixResult });
export type FixResult = z.output<typeof fixResultSchema>;

/** POST /admin/consistency/:id/fix: what was done, and the finding as it now is. */
export const findingFixSchema = z.object({ result: fixResultSchema, finding: findingSchema });
export type FindingFix = z.output<typeof findingFixSchema>;

/** POST /admin/orders/:orderId/fix-inconsistencies: whose order (or every owner's of that id). */
export const orderFixQuery = z.strictObject({ owner: ownerQuery.optional() });

export const orderIdParams = z.strictObject({ orderId: externalId });

/** POST /admin/orders/:orderId/fix-inconsistencies: one result per inconsistency the order had. */
export const orderFixSchema = z
  .object({ orderId: z.string(), results: z.array(fixResultSchema) })
  .meta({ example: { orderId: 'ORD-12345', results: [exampleFixResult] } });
export type OrderFix = z.output<typeof orderFixSchema>;

/** DELETE /admin/reservations/expired: how many lapsed holds the sweep expired. */
export const expirySweepSchema = z.object({ expired: z.number().int() }).meta({ example: { expired: 3 } });

/** GET /health/details: readiness, open findings by kind, and what is stuck now. */
export const healthDetailsSchema = readinessSchema.extend({
  findings: z.object({ open: z.number().int(), byKind: openByKindSchema }),
  stuck: z.object({
    /** published allocation jobs left unfinished and unchanged past CONSISTENCY_STUCK_JOB_AFTER_MS (stuck_job; the name is older than the queued-until-served worker) */
    processingJobs: z.number().int(),
    /** RESERVED holds past their expiry by more than CONSISTENCY_OVERDUE_GRACE_MS */
    overdueHolds: z.number().int(),
    /** outbox events not yet published, and the age of the oldest */
    unpublishedEvents: z.number().int(),
    oldestUnpublishedEventSeconds: z.number(),
  }),
});
export type HealthDetails = z.output<typeof healthDetailsSchema>;
