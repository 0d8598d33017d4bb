import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ConsistencyApp } from '../../inventory/consistency/application';
import { uuidSchema } from '../../schemas/common';
import {
  checkAnswerFindingLimit,
  checkResultSchema,
  expirySweepSchema,
  findingFixSchema,
  findingPageSchema,
  listFindingsQuery,
  orderFixQuery,
  orderFixSchema,
  orderIdParams,
} from '../../schemas/consistency';
import { errorResponses } from '../openapi';

const idParams = z.strictObject({ id: uuidSchema });

/** The consistency monitor and its fix tools (admin): run the check, list findings, fix one or an order's, expire lapsed holds now. */
export function consistencyRoutes(app: FastifyInstance, consistency: ConsistencyApp): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.post(
    '/admin/consistency/check',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'runConsistencyCheck',
        tags: ['consistency'],
        summary: 'Run the consistency check now',
        description:
          'Runs the check the worker runs every `CONSISTENCY_CHECK_INTERVAL_MS` (waiting for one already running in any process): new findings are ' +
          'stored and announced with `ConsistencyIssueDetected`, findings seen again get a new `lastSeenAt`, findings no longer found are resolved. ' +
          `Answers the counts, the open findings by kind, and the first ${checkAnswerFindingLimit} open findings, newest first ` +
          '(`nextCursor` pages on through `GET /admin/consistency?open=true`).',
        response: { 200: checkResultSchema },
      },
    },
    async () => consistency.check(),
  );

  api.get(
    '/admin/consistency',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'listConsistencyFindings',
        tags: ['consistency'],
        summary: 'List consistency findings, newest first',
        description:
          'Filters by `kind` (one or a comma-separated list), `open` (`true`: still there; `false`: resolved), `subjectType` and `subjectId`; ' +
          "all given filters apply, and an unknown parameter is refused. Pass the answer's `nextCursor` as `cursor` for the next page.",
        querystring: listFindingsQuery,
        response: { 200: findingPageSchema },
      },
    },
    async (request) => consistency.list(request.query),
  );

  api.post(
    '/admin/consistency/:id/fix',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'fixConsistencyFinding',
        tags: ['consistency'],
        summary: 'Repair what one finding reports',
        description:
          'Looks again whether the issue is there, then repairs it through the normal use case: an overdue hold is expired, a hold of a cancelled ' +
          "order released, a stuck job published again, a lot's unit states re-derived from its reservation lines; the finding is resolved. A finding whose issue is gone is resolved (`no_longer_present`); " +
          'one already resolved changes nothing (`already_resolved`). A kind that is not repaired automatically (`ledger_mismatch`, `long_hold`) ' +
          'is refused with 409 `CONFLICT`, its message saying why and what to do instead.',
        params: idParams,
        response: { 200: findingFixSchema, ...errorResponses(409) },
      },
    },
    async (request) => consistency.fixFinding(request.caller, request.params.id),
  );

  api.post(
    '/admin/orders/:orderId/fix-inconsistencies',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'fixOrderInconsistencies',
        tags: ['consistency'],
        summary: "Repair every inconsistency of one order's reservations and jobs",
        description:
          "Looks now (whether a check stored a finding or not) at the order's reservations and allocation jobs — of every owner's order of that id, " +
          'or of `owner` only — for overdue holds, holds of a cancelled order, stuck jobs and long holds, and repairs each it may, one transaction ' +
          'each, resolving their findings. One result per inconsistency; those not repaired automatically say why. An order with nothing wrong answers no results.',
        params: orderIdParams,
        querystring: orderFixQuery,
        response: { 200: orderFixSchema },
      },
    },
    async (request) => consistency.fixOrder(request.caller, request.params.orderId, request.query.owner),
  );

  api.delete(
    '/admin/reservations/expired',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'expireLapsedReservations',
        tags: ['consistency'],
        summary: 'Run the expiry sweep now',
        description:
          'Expires every RESERVED reservation whose hold has ended, as the sweeper does every `EXPIRY_SWEEP_INTERVAL_MS`: stock back, status EXPIRED ' +
          'with history, `ReservationExpired` events, waiting backorders served. Answers how many it expired.',
        response: { 200: expirySweepSchema },
      },
    },
    async () => consistency.expireNow(),
  );
}
