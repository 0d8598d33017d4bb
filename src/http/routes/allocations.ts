import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createJobsApp } from '../../inventory/jobs/application';
import {
  acceptedAllocationSchema,
  allocationBatchBody,
  allocationBatchLimit,
  allocationBatchResultSchema,
  allocationPageSchema,
  allocationViewSchema,
  createAllocationBody,
  listAllocationsQuery,
} from '../../schemas/allocations';
import { overloadedErrorSchema, uuidSchema } from '../../schemas/common';
import type { AppDeps } from '../app-deps';
import { idempotencyHeaders, sendAnswer } from '../idempotency';
import { createConsistencyApp } from '../../inventory/consistency/application';
import { consistencyRoutes } from './consistency';
import { deadLetterRoutes } from './dead-letters';

const idParams = z.strictObject({ id: uuidSchema });

/**
 * Allocation jobs: accept (202, then a worker serves it), follow, list by reference; and, for
 * admins, the dead letters of the queue and the consistency monitor's calls. The jobs application
 * opens the process's publisher.
 */
export async function allocationRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const jobs = await createJobsApp(deps);
  app.addHook('onClose', () => jobs.close());
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.post(
    '/allocations',
    {
      schema: {
        operationId: 'createAllocation',
        tags: ['allocations'],
        summary: 'Queue an allocation job',
        description:
          'Answers 202 once the job is committed; a worker serves it. With `ALLOCATION_MAX_BACKLOG` jobs accepted and not yet served, ' +
          'new jobs are refused with 503 `OVERLOADED` and `Retry-After` (seconds) until the workers catch up.',
        headers: idempotencyHeaders,
        body: createAllocationBody,
        response: { 202: acceptedAllocationSchema, 503: overloadedErrorSchema },
      },
    },
    async (request, reply) => {
      const answer = await jobs.enqueue(request.caller, request.headers['idempotency-key'], request.body, request.id);
      // the request's remaining lines (its `request completed` line) name the job, as the worker's lines about it do
      request.log = request.log.child({ allocationId: answer.body.allocationId });
      reply.header('idempotency-key', answer.body.idempotencyKey);
      return sendAnswer(reply, answer);
    },
  );

  api.post(
    '/allocations/batch',
    {
      schema: {
        operationId: 'createAllocationBatch',
        tags: ['allocations'],
        summary: 'Queue up to 1,000 allocation jobs in one call',
        description:
          `Takes 1–${allocationBatchLimit} jobs, each an \`AllocationBatchEntry\`: the body of \`POST /allocations\` with its own \`idempotencyKey\` ` +
          '(generated when absent; send one, so that sending the batch again doubles nothing). Each entry is checked, keyed and answered on its own, ' +
          'as `POST /allocations` would answer it: `results[i]` holds its status and body — 202 with the accepted job (`replayed` when its key had accepted ' +
          'the same request before), 400 with the issues of an invalid entry, 422 for a key used before with another request. Refused entries record ' +
          'nothing; the accepted ones are recorded in one transaction and their messages published before the answer. The call itself answers 200; ' +
          'a body that is not `{ jobs: [...] }` with 1–1,000 entries is 400, one larger than the body limit 413. When its valid jobs would take the ' +
          'backlog past `ALLOCATION_MAX_BACKLOG`, the whole batch is refused with 503 `OVERLOADED` and `Retry-After`, and nothing is recorded.',
        body: allocationBatchBody,
        response: { 200: allocationBatchResultSchema, 503: overloadedErrorSchema },
      },
    },
    async (request) => jobs.enqueueBatch(request.caller, request.body.jobs, request.id),
  );

  api.get(
    '/allocations/:id',
    {
      schema: {
        operationId: 'getAllocation',
        tags: ['allocations'],
        summary: 'Get an allocation job and its result',
        params: idParams,
        response: { 200: allocationViewSchema },
      },
    },
    async (request) => jobs.get(request.caller, request.params.id),
  );

  api.get(
    '/allocations',
    {
      schema: {
        operationId: 'listAllocations',
        tags: ['allocations'],
        summary: 'Search allocation jobs, newest first',
        description:
          'Filters by id, referenceId, status and priority (comma-separated lists) and acceptance time (`from` included, `to` excluded); ' +
          "all given filters apply. Pages of `limit` jobs: pass the answer's `nextCursor` as `cursor` for the next page (null on the last)." +
          " A service caller sees only its owner's (its token's `tenant`, else `sub`); an admin sees every owner's, narrowed by `owner`.",
        querystring: listAllocationsQuery,
        response: { 200: allocationPageSchema },
      },
    },
    async (request) => jobs.list(request.caller, request.query),
  );

  deadLetterRoutes(app, jobs);
  // its fixes publish stuck jobs again through the same dispatcher
  consistencyRoutes(app, createConsistencyApp({ pool: deps.pool, config: deps.config, dispatcher: jobs.dispatcher }));
}
