import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../server';

type Check = { status: 'up' | 'down'; error?: string };

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
export async function healthRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get('/health/live', { config: { access: 'public' }, logLevel: 'warn' }, async () => ({ status: 'up' }));
  app.get('/health/ready', { config: { access: 'public' }, logLevel: 'warn' }, async (_request, reply) => {
    const checks = { database: await checkDatabase(deps), broker: checkBroker(deps) };
    const ready = Object.values(checks).every((check) => check.status === 'up');
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'up' : 'down', checks });
  });
}
