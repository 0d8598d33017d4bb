import type { Pool } from 'pg';
import { newId } from '../../ids';
import type { Caller } from '../../auth/tokens';
import type { Config } from '../../config';
import { findAllocation, searchAllocations, type AllocationWithResult, type KeptAllocation, type NewAllocation } from '../../db/allocation-store';
import { canSee, listOwner, scopeOf, type OwnerScope } from '../../domain/ownership';
import { AppError, notFound } from '../../errors';
import { requestHash } from '../../request-hash';
import { jobsTotal } from '../../metrics';
import {
  allocationResultSchema,
  createAllocationBody,
  type AcceptedAllocation,
  type AllocationSearch,
  type AllocationView,
  type CreateAllocation,
} from '../../schemas/allocations';
import type { AllocationDispatcher, JobToPublish } from './allocation-dispatch';
import { assertSameRequest } from '../idempotency';
import type { IntakeRecorder } from './allocation-intake';
import type { BacklogGate } from './backlog';

export type IntakeDeps = { recorder: IntakeRecorder; dispatcher: AllocationDispatcher; gate: BacklogGate; config: Config };

/** The 202 body of a job accepted now, or accepted before under the same key (`replayed`). */
export function acceptedAnswer(row: KeptAllocation, replayed: boolean): AcceptedAllocation {
  const message = replayed ? 'Allocation request already accepted under this Idempotency-Key' : 'Allocation request queued for processing';
  return { allocationId: row.id, status: row.status, idempotencyKey: row.idempotencyKey, priority: row.priority, message };
}

/** The refusal of a request beyond what this service is configured to take (its schema cannot know): null when it is within. */
export function beyondConfiguredLimits(request: CreateAllocation, config: Config): AppError | null {
  if (request.reservationMinutes === undefined || request.reservationMinutes <= config.RESERVATION_MAX_MINUTES) return null;
  return new AppError('VALIDATION_FAILED', `reservationMinutes may be at most ${config.RESERVATION_MAX_MINUTES}`, {
    issues: [{ path: 'reservationMinutes', message: `at most ${config.RESERVATION_MAX_MINUTES}` }],
  });
}

/** The job row a request becomes: owned by the caller's owner, under its key (a new one when none was sent), with the hash a repeat is checked by. */
export function newJob(caller: Caller, idempotencyKey: string | undefined, request: CreateAllocation, requestId: string | null): NewAllocation {
  return {
    id: newId(),
    owner: scopeOf(caller).owner,
    idempotencyKey: idempotencyKey ?? newId(),
    requestHash: requestHash(request),
    requestId,
    request,
    actor: caller.sub,
    deadlineAt: request.timeoutMs === undefined ? null : new Date(Date.now() + request.timeoutMs),
  };
}

/** The message of an accepted job to publish: its products choose its partition. */
export function toPublish(row: Pick<KeptAllocation, 'id' | 'priority'>, request: CreateAllocation): JobToPublish {
  return { id: row.id, priority: row.priority, productIds: request.items.map((item) => item.productId) };
}

/**
 * Accepts an allocation job: records it under its Idempotency-Key (one is generated when the caller
 * sends none) and commits it (together with the jobs accepted at the same moment), then publishes its message. The job is committed before the
 * publish, so a broker outage loses nothing: the relay publishes what was not confirmed. The job
 * belongs to the caller's owner, and its key is scoped by it: the same key from the same owner with
 * the same body answers with the job already accepted; with another body, 422. With the backlog at
 * its bound (ALLOCATION_MAX_BACKLOG) it records nothing and answers 503 OVERLOADED.
 */
export async function enqueueAllocation(
  deps: IntakeDeps,
  caller: Caller,
  idempotencyKey: string | undefined,
  request: CreateAllocation,
  requestId: string | null,
): Promise<{ answer: AcceptedAllocation; replayed: boolean }> {
  const refusal = beyondConfiguredLimits(request, deps.config);
  if (refusal) throw refusal;
  await deps.gate.admit(1);
  const job = newJob(caller, idempotencyKey, request, requestId);
  const recorded = await deps.recorder.record(job);
  const { row } = recorded;

  if (!recorded.created) {
    assertSameRequest(row.requestHash, { key: job.idempotencyKey, hash: job.requestHash }, { allocationId: row.id });
    return { answer: acceptedAnswer(row, true), replayed: true };
  }
  jobsTotal.inc({ status: 'queued' });
  deps.gate.accepted(1, recorded.xid);
  await deps.dispatcher.dispatch([toPublish(row, request)]);
  return { answer: acceptedAnswer(row, false), replayed: false };
}

function toView(row: AllocationWithResult): AllocationView {
  return {
    allocationId: row.id,
    owner: row.owner,
    status: row.status,
    priority: row.priority,
    mode: row.mode,
    referenceId: row.referenceId,
    referenceType: row.referenceType,
    idempotencyKey: row.idempotencyKey,
    requestId: row.requestId,
    request: createAllocationBody.parse(row.request),
    attempts: row.attempts,
    lastError: row.lastError,
    deadlineAt: row.deadlineAt,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    updatedAt: row.updatedAt,
    result: row.result === null ? null : allocationResultSchema.parse(row.result),
  };
}

/** Where a job the scope sees stands, with its result once written; 404 when unknown or another owner's. */
export async function getAllocation(pool: Pool, id: string, scope: OwnerScope): Promise<AllocationView> {
  const row = await findAllocation(pool, id);
  if (!row || !canSee(scope, row.owner)) throw notFound('Allocation', id);
  return toView(row);
}

/** One page of the jobs the scope sees matching a search, newest first; `nextCursor` fetches the page after it. */
export async function listAllocations(pool: Pool, query: AllocationSearch, scope: OwnerScope): Promise<{ items: AllocationView[]; nextCursor: string | null }> {
  const owner = listOwner(scope, query.owner);
  if (owner === null) return { items: [], nextCursor: null };
  const rows = await searchAllocations(pool, {
    limit: query.limit + 1,
    ...(owner === undefined ? {} : { owner }),
    ...(query.id === undefined ? {} : { id: query.id }),
    ...(query.referenceId === undefined ? {} : { referenceId: query.referenceId }),
    ...(query.status === undefined ? {} : { statuses: query.status }),
    ...(query.priority === undefined ? {} : { priorities: query.priority }),
    ...(query.from === undefined ? {} : { from: query.from }),
    ...(query.to === undefined ? {} : { to: query.to }),
    ...(query.cursor === undefined ? {} : { afterId: query.cursor }),
  });
  const page = rows.slice(0, query.limit);
  return { items: page.map(toView), nextCursor: rows.length > query.limit ? page.at(-1)!.id : null };
}
