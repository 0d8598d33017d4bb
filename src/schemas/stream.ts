import { z } from 'zod';
import { reservationStatuses } from '../domain/reservation';
import { priorities } from '../domain/priority';
import { allocationStatuses, deadLetterStatuses } from './allocations';
import { isoTimestamp, uuidSchema } from './common';

const count = z.number().int().min(0);
const byPriority = z.object(Object.fromEntries(priorities.map((priority) => [priority, count])) as Record<(typeof priorities)[number], typeof count>);
const byReservationStatus = z.object(
  Object.fromEntries(reservationStatuses.map((status) => [status, count])) as Record<(typeof reservationStatuses)[number], typeof count>,
);

/** One sample of the service's figures, counted from Postgres so every process's work is in it. */
export const metricsSnapshotSchema = z.object({
  at: isoTimestamp,
  /** The window the rates and percentiles cover, ending at `at`. */
  windowSeconds: z.number().positive(),
  jobs: z.object({
    acceptedPerSecond: z.number().min(0),
    succeededPerSecond: z.number().min(0),
    failedPerSecond: z.number().min(0),
    /** Accept → result of the jobs finished in the window; null when none finished. */
    latencyMs: z.object({ p50: z.number().nullable(), p99: z.number().nullable() }),
  }),
  /** Jobs accepted and not yet started, per priority. */
  queueDepth: byPriority,
  deadLetters: z.object({ open: count }),
  /** Events written but not yet confirmed by the broker, and the age of the oldest. */
  outbox: z.object({ pending: count, lagSeconds: z.number().min(0) }),
  reservations: byReservationStatus,
  lowStock: z.object({ critical: count, low: count }),
});
export type MetricsSnapshot = z.infer<typeof metricsSnapshotSchema>;

/** A job that was accepted or finished since the last sample. */
export const jobChangeSchema = z.object({
  allocationId: uuidSchema,
  status: z.enum(allocationStatuses),
  priority: z.enum(priorities),
  referenceId: z.string(),
  at: isoTimestamp,
});
export type JobChange = z.infer<typeof jobChangeSchema>;

/** A dead letter that arrived or was replayed since the last sample. */
export const deadLetterChangeSchema = z.object({
  id: uuidSchema,
  queue: z.string(),
  allocationId: uuidSchema.nullable(),
  reason: z.string(),
  status: z.enum(deadLetterStatuses),
  at: isoTimestamp,
});
export type DeadLetterChange = z.infer<typeof deadLetterChangeSchema>;

/** The events of GET /stream, by SSE event name. */
export const streamEventSchemas = { metrics: metricsSnapshotSchema, job: jobChangeSchema, 'dead-letter': deadLetterChangeSchema } as const;
export type StreamEventName = keyof typeof streamEventSchemas;
