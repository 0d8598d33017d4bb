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
  /**
   * Rejects with 503 OVERLOADED (with how long to wait) when `jobs` more would take the backlog past
   * its bound, counting each refused job in the metric; resolves when they are taken.
   */
  admit(jobs: number): Promise<void>;
  /** Notes jobs this process accepted, committed by transaction `xid`, so the figure grows between two counts. */
  accepted(jobs: number, xid: string): void;
};

/**
 * The longest a refused caller is asked to wait, and the shortest. A figure older than the shortest
 * wait refuses nobody: the backlog is counted again first, so a caller is never refused on a count
 * from before a quiet spell (the backlog drains while nobody calls), and one coming back after its
 * wait is judged on a count taken since its refusal.
 */
const MAX_RETRY_MS = 1000;
const MIN_RETRY_MS = 100;
/** The window the workers' recent rate is measured over. */
const SERVED_WINDOW_SECONDS = 2;

/**
 * A gate on ALLOCATION_MAX_BACKLOG. The backlog is counted in the database (jobs queued or
 * processing, through the index of unfinished jobs) in the background of the call that finds the
 * count older than ALLOCATION_BACKLOG_SAMPLE_MS, one count at a time, and the jobs this process accepted that
 * the count did not see are added to it: each count comes with its snapshot and each accepted batch
 * with its transaction, so a job committed while a count ran is counted once, whichever of the two
 * it fell into. A call waits for a count only when the figure would refuse it and is older than
 * MIN_RETRY_MS (calls that meet such a figure together wait for the same count); a call the figure
 * admits never waits. A count that fails keeps the last figure (the intake's own write reports a
 * database outage). A refused caller is told to wait as long as the workers take, at the rate they
 * served lately, to make room (retryWaitMs): `Retry-After` in whole seconds, `details.retryAfterMs`
 * to the millisecond. With no bound (0) it admits everything and counts nothing.
 */
export function createBacklogGate(pool: Pool, config: Pick<Config, 'ALLOCATION_MAX_BACKLOG' | 'ALLOCATION_BACKLOG_SAMPLE_MS'>, logger: Logger): BacklogGate {
  const log = logger.child({ component: 'backlog-gate' });
  let counted = 0;
  let servedPerSecond = 0;
  let snapshot: string | null = null;
  // jobs accepted here that the last count did not see, by the transaction that committed them
  let unseen: { xid: string; jobs: number }[] = [];
  let countedAt = -Infinity;
  let counting: Promise<void> | null = null;

  /** The count in flight, or a new one: it settles once its figure is in use (or, failed, the last one kept). */
  const recount = (): Promise<void> => {
    if (counting) return counting;
    const startedAt = performance.now();
    counting = sampleBacklog(pool, SERVED_WINDOW_SECONDS)
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
        counting = null;
      });
    return counting;
  };
  const backlog = () => unseen.reduce((sum, batch) => sum + batch.jobs, counted);

  return {
    async admit(jobs) {
      if (config.ALLOCATION_MAX_BACKLOG === 0) return;
      if (performance.now() - countedAt >= config.ALLOCATION_BACKLOG_SAMPLE_MS) void recount();
      if (!backlogFull(backlog(), config.ALLOCATION_MAX_BACKLOG, jobs)) return;
      if (performance.now() - countedAt >= MIN_RETRY_MS) {
        await recount();
        if (!backlogFull(backlog(), config.ALLOCATION_MAX_BACKLOG, jobs)) return;
      }
      allocationsOverloaded.inc(jobs);
      const figure = backlog();
      const waitMs = retryWaitMs(figure, config.ALLOCATION_MAX_BACKLOG, jobs, servedPerSecond, MIN_RETRY_MS, MAX_RETRY_MS);
      throw new AppError('OVERLOADED', `${figure} allocation jobs are waiting to be served, the most this service accepts; try again in ${waitMs} ms`, {
        retryAfterSeconds: Math.ceil(waitMs / 1000),
        retryAfterMs: waitMs,
        backlog: figure,
        maxBacklog: config.ALLOCATION_MAX_BACKLOG,
      });
    },
    accepted(jobs, xid) {
      // a count whose answer came in before this call may have seen these jobs already
      if (config.ALLOCATION_MAX_BACKLOG > 0 && (snapshot === null || !committedWithin(xid, snapshot))) unseen.push({ xid, jobs });
    },
  };
}
