import type { FastifyInstance } from 'fastify';
import { bearer } from './tokens';

/** Polls `probe` every 25 ms until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export const service = bearer('service', 'checkout');
export const admin = bearer('admin', 'ops');

/** POST /allocations; returns the reply. */
export async function enqueue(app: FastifyInstance, body: Record<string, unknown>, key?: string) {
  return app.inject({
    method: 'POST',
    url: '/api/v1/allocations',
    headers: { ...service, ...(key ? { 'idempotency-key': key } : {}) },
    payload: body,
  });
}

const finalStatuses = new Set(['succeeded', 'partial', 'failed', 'dead_lettered']);

/** Polls GET /allocations/:id (as an admin, who sees every owner's jobs) until the job reached a final status; returns its view. */
export async function waitForJob(app: FastifyInstance, id: string, timeoutMs?: number): Promise<Record<string, any>> {
  return waitFor(
    `allocation ${id} to finish`,
    async () => {
      const view = (await app.inject({ method: 'GET', url: `/api/v1/allocations/${id}`, headers: admin })).json();
      return finalStatuses.has(view.status) ? view : undefined;
    },
    timeoutMs,
  );
}
