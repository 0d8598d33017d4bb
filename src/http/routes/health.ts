import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ReadinessProbe } from '../../operations/readiness';
import { livenessSchema, readinessSchema } from '../../schemas/health';

/** Liveness says the process runs; readiness says Postgres and RabbitMQ both answer. */
export function healthRoutes(app: FastifyInstance, probe: ReadinessProbe): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get(
    '/health/live',
    {
      config: { access: 'public', rateLimit: false },
      logLevel: 'warn',
      schema: {
        operationId: 'getLiveness',
        tags: ['operations'],
        summary: 'Liveness: the process runs',
        response: { 200: livenessSchema },
      },
    },
    () => ({ status: 'up' as const }),
  );
  api.get(
    '/health/ready',
    {
      config: { access: 'public', rateLimit: false },
      logLevel: 'warn',
      schema: {
        operationId: 'getReadiness',
        tags: ['operations'],
        summary: 'Readiness: Postgres and RabbitMQ both answer',
        response: {
          200: readinessSchema,
          503: {
            description: 'Postgres or RabbitMQ is down; `checks` says which (the cause is in the log)',
            content: {
              'application/json': {
                schema: readinessSchema,
              },
            },
          },
        },
      },
    },
    async (_request, reply) => {
      const readiness = await probe();
      return reply.status(readiness.status === 'up' ? 200 : 503).send(readiness);
    },
  );
}
