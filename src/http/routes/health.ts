import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HealthDetailsProbe } from '../../operations/health-details';
import type { ReadinessProbe } from '../../operations/readiness';
import { healthDetailsSchema } from '../../schemas/consistency';
import { livenessSchema, readinessSchema } from '../../schemas/health';

/**
 * Liveness says the process runs; readiness says Postgres and RabbitMQ both answer; details (admin)
 * add the consistency findings and what is stuck.
 */
export function healthRoutes(app: FastifyInstance, probe: ReadinessProbe, details: HealthDetailsProbe): void {
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
  api.get(
    '/health/details',
    {
      config: { access: 'admin', rateLimit: false },
      logLevel: 'warn',
      schema: {
        operationId: 'getHealthDetails',
        tags: ['operations'],
        summary: 'Readiness with open consistency findings by kind and stuck counts',
        description:
          'What `/health/ready` answers (and its status: 503 when a dependency is down), plus the open findings of the consistency check by kind ' +
          'and what is stuck now: published allocation jobs left unfinished past `CONSISTENCY_STUCK_JOB_AFTER_MS`, holds past their expiry by more than ' +
          '`CONSISTENCY_OVERDUE_GRACE_MS`, and the outbox backlog.',
        response: {
          200: healthDetailsSchema,
          503: {
            description: 'Postgres or RabbitMQ is down; `checks` says which (counts read from Postgres are 0 while it is down)',
            content: { 'application/json': { schema: healthDetailsSchema } },
          },
        },
      },
    },
    async (_request, reply) => {
      const answer = await details();
      return reply.status(answer.status === 'up' ? 200 : 503).send(answer);
    },
  );
}
