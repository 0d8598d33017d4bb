import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listDeadLetters, purgeDeadLetter, replayDeadLetter, type DeadLetterDeps } from '../../inventory/dead-letters';
import { deadLetterSchema, listDeadLettersQuery } from '../../schemas/allocations';
import { uuidSchema } from '../../schemas/common';

const idParams = z.strictObject({ id: uuidSchema });

/** Dead letters of the allocation queue (admin): list, replay, purge. */
export function deadLetterRoutes(app: FastifyInstance, deps: DeadLetterDeps): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get('/admin/dead-letters', {
    config: { access: 'admin' },
    schema: {
      tags: ['dead letters'],
      summary: 'List dead letters, newest first',
      querystring: listDeadLettersQuery,
      response: { 200: z.object({ items: z.array(deadLetterSchema) }) },
    },
  }, async (request) => ({ items: await listDeadLetters(deps.pool, request.query) }));

  api.post('/admin/dead-letters/:id/replay', {
    config: { access: 'admin' },
    schema: { tags: ['dead letters'], summary: 'Send a dead letter back to the work queue', params: idParams, response: { 200: deadLetterSchema } },
  }, async (request) => replayDeadLetter(deps, request.params.id));

  api.delete('/admin/dead-letters/:id', {
    config: { access: 'admin' },
    schema: { tags: ['dead letters'], summary: 'Purge a dead letter', params: idParams, response: { 204: z.null() } },
  }, async (request, reply) => {
    await purgeDeadLetter(deps.pool, request.params.id);
    return reply.status(204).send(null);
  });
}
