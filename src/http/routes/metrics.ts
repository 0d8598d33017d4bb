import type { FastifyInstance } from 'fastify';
import { registry } from '../../metrics';
import type { ReadinessProbe } from '../../operations/readiness';
import { stockGaugeRefresher } from '../../operations/stock-gauges';
import type { AppDeps } from '../app-deps';

/** GET /metrics: every Prometheus metric of the process, in the text exposition format. */
export function metricsRoutes(app: FastifyInstance, deps: AppDeps, probe: ReadinessProbe): void {
  const refreshStockGauges = stockGaugeRefresher(deps.pool, deps.logger);
  app.get(
    '/metrics',
    {
      config: { access: 'public', adminPort: true },
      logLevel: 'warn',
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics',
        description:
          'Requests by route and status, allocation jobs by status, accept-to-result latency, queue depth, retries, dead letters, reservations by status, lock waits and the oversell check.',
      },
    },
    async (_request, reply) => {
      await Promise.all([refreshStockGauges(), probe()]);
      return reply.type(registry.contentType).send(await registry.metrics());
    },
  );
}
