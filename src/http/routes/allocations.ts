import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createPublisher } from '../../amqp/publisher';
import { keepAllocationTopology } from '../../amqp/topology';
import { createAllocationDispatcher } from '../../inventory/jobs/allocation-dispatch';
import { createIntakeRecorder } from '../../inventory/jobs/allocation-intake';
import { enqueueAllocation, getAllocation, listAllocations } from '../../inventory/jobs/allocations';
import { acceptedAllocationSchema, allocationViewSchema, createAllocationBody, listAllocationsQuery } from '../../schemas/allocations';
import { uuidSchema } from '../../schemas/common';
import { idempotencyKeySchema } from '../idempotency';
import type { AppDeps } from '../app-deps';
import { deadLetterRoutes } from './dead-letters';

const idParams = z.strictObject({ id: uuidSchema });

/**
 * Allocation jobs: accept (202, then a worker serves it), follow, list by reference; and, for
 * admins, the dead letters of the queue. Opens the process's confirm channel for publishing jobs.
 */
export async function allocationRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { pool, config, logger } = deps;
  const kept = deps.amqp ? await keepAllocationTopology(deps.amqp, config.ALLOCATION_QUEUE, config.JOB_RETRY_DELAYS_MS, logger) : null;
  // a returned job means its queue is gone: declare it again, and the relay sends the job once it is back
  const publisher = deps.amqp ? await createPublisher(deps.amqp, logger, { onReturned: () => kept?.redeclare() }) : null;
  const dispatcher = createAllocationDispatcher(pool, publisher, config, logger);
  const recorder = createIntakeRecorder(pool);
  app.addHook('onClose', async () => {
    await dispatcher.close();
    await publisher?.close();
  });
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.post(
    '/allocations',
    {
      schema: {
        tags: ['allocations'],
        summary: 'Queue an allocation job',
        headers: z.object({ 'idempotency-key': idempotencyKeySchema.optional() }),
        body: createAllocationBody,
        response: { 202: acceptedAllocationSchema },
      },
    },
    async (request, reply) => {
      const { answer, replayed } = await enqueueAllocation({ recorder, dispatcher, config }, request.caller, request.headers['idempotency-key'], request.body);
      reply.header('idempotency-key', answer.idempotencyKey);
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.status(202).send(answer);
    },
  );

  api.get(
    '/allocations/:id',
    {
      schema: { tags: ['allocations'], summary: 'Get an allocation job and its result', params: idParams, response: { 200: allocationViewSchema } },
    },
    async (request) => getAllocation(pool, request.params.id),
  );

  api.get(
    '/allocations',
    {
      schema: {
        tags: ['allocations'],
        summary: 'List the allocation jobs of a reference',
        querystring: listAllocationsQuery,
        response: { 200: z.object({ items: z.array(allocationViewSchema) }) },
      },
    },
    async (request) => ({ items: await listAllocations(pool, request.query) }),
  );

  deadLetterRoutes(app, { pool, dispatcher, publisher, config });
}
