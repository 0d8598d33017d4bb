import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { apiRegistry } from '../../metrics';
import type { ReadinessProbe } from '../../operations/readiness';
import { stateGaugeRefresher } from '../../operations/state-gauges';
import type { AppDeps } from '../app-deps';
import { adminServer, errorResponses } from '../openapi';

/** GET /metrics: every Prometheus metric of the process, in the text exposition format. */
export function metricsRoutes(app: FastifyInstance, deps: AppDeps, probe: ReadinessProbe): void {
  const refreshStateGauges = stateGaugeRefresher(deps.pool, deps.logger, { ledgerCheckMs: deps.config.LEDGER_CHECK_INTERVAL_MS });
  app.get(
    '/metrics',
    {
      config: { access: 'public', adminPort: true },
      logLevel: 'warn',
      schema: {
        operationId: 'getMetrics',
        tags: ['operations'],
        summary: 'Prometheus metrics',
        description:
          'Requests by route and status, allocation jobs by status, accept-to-result latency, queue depth, retries, dead letters (recorded and open by reason), reservations by status and overdue, the outbox backlog, low stock, lock waits, the oversell and ledger checks, dependency up gauges and Node.js process metrics. ' +
          'Served on the admin port only.',
        servers: [adminServer],
        response: {
          200: {
            description: 'The Prometheus text exposition format',
            content: { [Registry.PROMETHEUS_CONTENT_TYPE]: { schema: z.string() } },
          },
          ...errorResponses(404),
        },
      },
    },
    async (_request, reply) => {
      await Promise.all([refreshStateGauges(), probe()]);
      const registry = apiRegistry();
      return reply.type(registry.contentType).send(await registry.metrics());
    },
  );
}
