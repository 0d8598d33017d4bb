import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { JobsApp } from '../../inventory/jobs/application';
import { deadLetterSchema, listDeadLettersQuery } from '../../schemas/allocations';
import { uuidSchema } from '../../schemas/common';
import { errorResponses } from '../openapi';

const idParams = z.strictObject({ id: uuidSchema });

/** Dead letters of the allocation queue and the event consumers (admin): list, show, replay, purge. */
export function deadLetterRoutes(app: FastifyInstance, jobs: JobsApp): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/admin/dead-letters',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['dead letters'],
        summary: 'List dead letters, newest first',
        querystring: listDeadLettersQuery,
        response: { 200: z.object({ items: z.array(deadLetterSchema) }) },
      },
    },
    async (request) => ({ items: await jobs.deadLetters.list(request.query) }),
  );

  api.get(
    '/admin/dead-letters/:id',
    {
      config: { access: 'admin' },
      schema: { tags: ['dead letters'], summary: 'One dead letter with its errors and payload', params: idParams, response: { 200: deadLetterSchema } },
    },
    async (request) => jobs.deadLetters.get(request.params.id),
  );

  api.post(
    '/admin/dead-letters/:id/replay',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['dead letters'],
        summary: 'Send a dead letter back to the queue it came from',
        params: idParams,
        response: { 200: deadLetterSchema, ...errorResponses(409) },
      },
    },
    async (request) => jobs.deadLetters.replay(request.params.id),
  );

  api.delete(
    '/admin/dead-letters/:id',
    {
      config: { access: 'admin' },
      schema: { tags: ['dead letters'], summary: 'Purge a dead letter', params: idParams, response: { 204: z.null() } },
    },
    async (request, reply) => {
      await jobs.deadLetters.purge(request.params.id);
      return reply.status(204).send(null);
    },
  );
}
