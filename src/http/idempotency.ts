import { z } from 'zod';

/** The Idempotency-Key header: printable, at most 200 characters. */
export const idempotencyKeySchema = z.string().regex(/^[\x21-\x7e]{1,200}$/, 'expected 1-200 printable characters');
