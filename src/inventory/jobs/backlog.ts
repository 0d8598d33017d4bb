import type { Pool } from 'pg';
import type { Config } from '../../config';
import { sampleBacklog } from '../../db/allocation-store';
import { committedWithin } from '../../db/snapshots';
import { backlogFull, retryWaitMs } from '../../domain/backlog';
import { AppError } from '../../errors';
import type { Logger } from '../../logger';
import { allocationBacklog, allocationsOverloaded } from '../../metrics';

/** Decides whether the intake takes more jobs, from a sampled count of the jobs not yet served. */
export type BacklogGate = {
  /** Throws 503 OVERLOADED (retry after a second) when `jobs` more would take the backlog past its bound; counts each refused job in the metric. */
  admit(jobs: number): void;
  /** Notes jobs this process accepted, committed by transaction `xid`, so the figure grows between two counts. */
  accepted(jobs: number, xid: string): void;
};

/**
 * The longest a refused caller is asked to wait, and the shortest: a refusal counts the backlog again
 * when the figure it went by is older than that, so a caller coming back finds a count taken since.
 */
const MAX_RETRY_MS = 1000;
const MIN_RETRY_MS = 100;
/** The window the workers' recent rate is measured over. */
const SERVED_WINDOW_SECONDS = 2;

/**
 * A gate on ALLOCATION_MAX_BACKLOG. The backlog is counted in the database (jobs queued or
 * processing, through the index of unfinished jobs) at most once per ALLOCATION_BACKLOG_SAMPLE_MS,
 * in the background of the call that finds the count old — never once per request, never on the
 * request's path — and the jobs this process accepted that the count did not see are added to it:
 * each count comes with its snapshot and each accepted batch with its transaction, so a job
 * committed while a count ran is counted once, whichever of the two it fell into. A count that
 * fails keeps the last figure (the intake's own write reports a database outage). A refused caller
 * is told to wait as long as the workers take, at the rate they served lately, to make room
 * (retryWaitMs): `Retry-After` in whole seconds, `details.retryAfterMs` to the millisecond; and the
 * backlog is counted again then, unless counted within MIN_RETRY_MS, so that the caller coming back
 * is judged on a count taken after its refusal. With no bound (0) it admits everything and counts nothing.
 */
export function createBacklogGate(pool: Pool, config: Pick<Config, 'ALLOCATION_MAX_BACKLOG' | 'ALLOCATION_BACKLOG_SAMPLE_MS'>, logger: Logger): BacklogGate {
  const log = logger.child({ component: 'backlog-gate' });
  let counted = 0;
  let servedPerSecond = 0;
  let snapshot: string | null = null;
  // jobs accepted here that the last count did not see, by the transaction that committed them
  let unseen: { xid: string; jobs: number }[] = [];
  let countedAt = -Infinity;
  let counting = false;

  const recount = () => {
    counting = true;
    const startedAt = performance.now();
    sampleBacklog(pool, SERVED_WINDOW_SECONDS)
      .then((sample) => {
        counted = sample.unfinished;
        servedPerSecond = sample.served / SERVED_WINDOW_SECONDS;
        snapshot = sample.snapshot;
        unseen = unseen.filter((batch) => !committedWithin(batch.xid, sample.snapshot));
        countedAt = startedAt;
        allocationBacklog.set(sample.unfinished);
      })
      .catch((error: unknown) => log.debug({ err: error }, 'could not count the backlog; keeping the last figure'))
      .finally(() => {
        counting = false;
      });
  };

  return {
    admit(jobs) {
      if (config.ALLOCATION_MAX_BACKLOG === 0) return;
      const age = performance.now() - countedAt;
      if (!counting && age >= config.ALLOCATION_BACKLOG_SAMPLE_MS) recount();
      let backlog = counted;
      for (const batch of unseen) backlog += batch.jobs;
      if (!backlogFull(backlog, config.ALLOCATION_MAX_BACKLOG, jobs)) return;
      allocationsOverloaded.inc(jobs);
      if (!counting && age >= MIN_RETRY_MS) recount();
      const waitMs = retryWaitMs(backlog, config.ALLOCATION_MAX_BACKLOG, jobs, servedPerSecond, MIN_RETRY_MS, MAX_RETRY_MS);
      throw new AppError('OVERLOADED', `${backlog} allocation jobs are waiting to be served, the most this service accepts; try again in ${waitMs} ms`, {
        retryAfterSeconds: Math.ceil(waitMs / 1000),
        retryAfterMs: waitMs,
        backlog,
        maxBacklog: config.ALLOCATION_MAX_BACKLOG,
      });
    },
    accepted(jobs, xid) {
      // a count whose answer came in before this call may have seen these jobs already
      if (config.ALLOCATION_MAX_BACKLOG > 0 && (snapshot === null || !committedWithin(xid, snapshot))) unseen.push({ xid, jobs });
    },
  };
}
