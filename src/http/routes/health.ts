import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../app-deps';

type Check = { status: 'up' | 'down'; error?: string };

const checkSchema = z.object({ status: z.enum(['up', 'down']), error: z.string().optional() });
const readinessSchema = z.object({ status: z.enum(['up', 'down']), checks: z.object({ database: checkSchema, broker: checkSchema }) });

async function checkDatabase(deps: AppDeps): Promise<Check> {
  try {
    await deps.pool.query('select 1');
    return { status: 'up' };
  } catch (error) {
    return { status: 'down', error: error instanceof Error ? error.message : String(error) };
  }
}

function checkBroker(deps: AppDeps): Check {
  if (!deps.amqp) return { status: 'down', error: 'no broker connection configured' };
  return deps.amqp.isConnected() ? { status: 'up' } : { status: 'down', error: 'reconnecting to RabbitMQ' };
}

/** Liveness says the process runs; readiness says Postgres and RabbitMQ both answer. */
export function healthRoutes(app: FastifyInstance, deps: AppDeps): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get(
    '/health/live',
    {
      config: { access: 'public', rateLimit: false },
      logLevel: 'warn',
      schema: { tags: ['operations'], summary: 'Liveness: the process runs', response: { 200: z.object({ status: z.literal('up') }) } },
    },
    () => ({ status: 'up' as const }),
  );
  api.get(
    '/health/ready',
    {
      config: { access: 'public', rateLimit: false },
      logLevel: 'warn',
      schema: {
        tags: ['operations'],
        summary: 'Readiness: Postgres and RabbitMQ both answer',
        response: { 200: readinessSchema, 503: readinessSchema.describe('Postgres or RabbitMQ is down; `checks` says which') },
      },
    },
    async (_request, reply) => {
      const checks = { database: await checkDatabase(deps), broker: checkBroker(deps) };
      const ready = Object.values(checks).every((check) => check.status === 'up');
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'up' : 'down', checks });
    },
  );
}
