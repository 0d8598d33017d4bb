import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { JobsApp } from '../../inventory/jobs/application';
import {
  bulkDeadLetterAnswer,
  bulkDeadLetterBody,
  bulkDeadLetterLimit,
  deadLetterPageSchema,
  deadLetterSchema,
  listDeadLettersQuery,
} from '../../schemas/allocations';
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
        operationId: 'listDeadLetters',
        tags: ['dead letters'],
        summary: 'List dead letters, newest first',
        description:
          'Filters by status, reason, queue and the time a letter was dead-lettered (`from` included, `to` excluded); all given filters apply, ' +
          "and an unknown parameter is refused. Pass the answer's `nextCursor` as `cursor` for the next page.",
        querystring: listDeadLettersQuery,
        response: { 200: deadLetterPageSchema },
      },
    },
    async (request) => jobs.deadLetters.list(request.query),
  );

  api.post(
    '/admin/dead-letters/replay',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'replayDeadLetters',
        tags: ['dead letters'],
        summary: 'Replay many dead letters: by ids or by filter, with a dry run',
        description:
          'Replays the open letters named by `ids`, or matching `reason`, `queue`, `from`, `to` (all given fields apply), newest first and ' +
          `at most ${bulkDeadLetterLimit} per call: \`remaining\` says how many still match. With \`dryRun: true\` nothing changes and the answer ` +
          'counts and lists what would be replayed. A letter that cannot be replayed is listed as `failed` with its error; the others go on.',
        body: bulkDeadLetterBody,
        response: { 200: bulkDeadLetterAnswer },
      },
    },
    async (request) => jobs.deadLetters.replayMany(request.body),
  );

  api.post(
    '/admin/dead-letters/purge',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'purgeDeadLetters',
        tags: ['dead letters'],
        summary: 'Purge many dead letters: by ids or by filter, with a dry run',
        description:
          'Deletes the letters named by `ids`, or matching `status`, `reason`, `queue`, `from`, `to` (all given fields apply), newest first and ' +
          `at most ${bulkDeadLetterLimit} per call, in one statement. With \`dryRun: true\` nothing changes and the answer counts and lists what would be purged.`,
        body: bulkDeadLetterBody,
        response: { 200: bulkDeadLetterAnswer },
      },
    },
    async (request) => jobs.deadLetters.purgeMany(request.body),
  );

  api.get(
    '/admin/dead-letters/:id',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'getDeadLetter',
        tags: ['dead letters'],
        summary: 'One dead letter with its errors and payload',
        params: idParams,
        response: { 200: deadLetterSchema },
      },
    },
    async (request) => jobs.deadLetters.get(request.params.id),
  );

  api.post(
    '/admin/dead-letters/:id/replay',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'replayDeadLetter',
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
      schema: { operationId: 'purgeDeadLetter', tags: ['dead letters'], summary: 'Purge a dead letter', params: idParams, response: { 204: z.null() } },
    },
    async (request, reply) => {
      await jobs.deadLetters.purge(request.params.id);
      return reply.status(204).send(null);
    },
  );
}
