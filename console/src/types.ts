// The API's answers as they arrive on the wire (timestamps as ISO strings): the input side of the
// service's own zod schemas, so a change of shape there fails the console's type-check.
import type { z } from 'zod';
import type { allocationViewSchema, bulkDeadLetterAnswer, deadLetterSchema } from '../../src/schemas/allocations';
import type { lowStockItemSchema, movementSchema, productInventoryResponse } from '../../src/schemas/inventory';
import type { reservationSummarySchema } from '../../src/schemas/reservations';
import type { deadLetterChangeSchema, jobChangeSchema, metricsSnapshotSchema } from '../../src/schemas/stream';

export type AllocationView = z.input<typeof allocationViewSchema>;
export type DeadLetter = z.input<typeof deadLetterSchema>;
export type BulkAnswer = z.input<typeof bulkDeadLetterAnswer>;
export type ProductInventory = z.input<typeof productInventoryResponse>;
export type Movement = z.input<typeof movementSchema>;
export type LowStockItem = z.input<typeof lowStockItemSchema>;
export type Reservation = z.input<typeof reservationSummarySchema>;
export type MetricsSnapshot = z.input<typeof metricsSnapshotSchema>;
export type JobChange = z.input<typeof jobChangeSchema>;
export type DeadLetterChange = z.input<typeof deadLetterChangeSchema>;

/** A listing page: its items and the cursor of the next page (null on the last). */
export type Page<T> = { items: T[]; nextCursor: string | null };

/** One event of GET /api/v1/stream. */
export type StreamEvent = { type: 'metrics'; data: MetricsSnapshot } | { type: 'job'; data: JobChange } | { type: 'dead-letter'; data: DeadLetterChange };
