import type { Pool } from 'pg';
import { claimStalled, claimUnpublished, markPublished, markRepublished } from '../../db/allocation-store';
import { withTransaction } from '../../db/client';
import type { AllocationDispatcher } from './allocation-dispatch';

const RELAY_BATCH = 500;

/**
 * Publishes accepted jobs whose message the broker never confirmed (it was away, or the api died
 * between commit and publish). Rows are claimed with SKIP LOCKED, so several relays share the work;
 * a job is marked published only once confirmed. Returns how many were published.
 */
export async function relayUnpublishedJobs(pool: Pool, dispatcher: AllocationDispatcher, olderThanMs: number): Promise<number> {
  return withTransaction(pool, async (tx) => {
    const jobs = await claimUnpublished(tx, olderThanMs, RELAY_BATCH);
    const confirmed = await dispatcher.publish(jobs);
    await markPublished(tx, confirmed);
    return confirmed.length;
  });
}

/**
 * Publishes again the jobs that were published but have neither started nor finished for
 * `olderThanMs` (ALLOCATION_REPUBLISH_AFTER_MS): their message is gone (a deleted or purged queue, a
 * lost broker disk). A job whose message still exists is then served once all the same: the
 * worker finds it finished when the second copy comes. Returns how many were published.
 */
export async function republishStalledJobs(pool: Pool, dispatcher: AllocationDispatcher, olderThanMs: number): Promise<number> {
  return withTransaction(pool, async (tx) => {
    const jobs = await claimStalled(tx, olderThanMs, RELAY_BATCH);
    const confirmed = await dispatcher.publish(jobs);
    await markRepublished(tx, confirmed);
    return confirmed.length;
  });
}
