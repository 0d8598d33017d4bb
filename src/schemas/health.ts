import { z } from 'zod';

const checkSchema = z.object({ status: z.enum(['up', 'down']) });

/** GET /health/live: the process runs. */
export const livenessSchema = z.object({ status: z.literal('up') });

/** GET /health/ready: whether Postgres and RabbitMQ both answer, each said apart. */
export const readinessSchema = z.object({ status: z.enum(['up', 'down']), checks: z.object({ database: checkSchema, broker: checkSchema }) });
