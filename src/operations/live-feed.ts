import type { Config } from '../config';
import type { Queryable } from '../db/client';
import {
  countOpenDeadLetters,
  countQueuedByPriority,
  countReservationsByStatus,
  listDeadLetterChanges,
  listJobChanges,
  outboxBacklog,
  sampleJobFigures,
} from '../db/metrics-store';
import { findLowStock } from '../db/stock-settings-store';
import { reservationStatuses } from '../domain/reservation';
import { priorities } from '../domain/priority';
import type { Logger } from '../logger';
import type { DeadLetterChange, JobChange, MetricsSnapshot } from '../schemas/stream';

/** One event of the live stream, by its SSE name. */
export type LiveEvent = { name: 'metrics'; data: MetricsSnapshot } | { name: 'job'; data: JobChange } | { name: 'dead-letter'; data: DeadLetterChange };

/** The live figures of the service: subscribers share one sampler, which runs only while someone listens. */
export type LiveFeed = {
  /** Calls `listener` with each event from now on (and at once with the latest snapshot); returns the unsubscribe function. */
  subscribe(listener: (event: LiveEvent) => void): () => void;
  /** Stops sampling and drops every subscriber. */
  close(): void;
};

/** Changes of one kind sent per sample at most; the snapshot's rates still count every job. */
export const changesPerSample = 100;

/**
 * Rows are stamped when their transaction starts and seen when it commits, so a sample reads the
 * changes up to this long before its own time: a change committed within that lag is not missed.
 */
const commitLagMs = 1000;

/** Turns counts per key into an object with every key, zero where none was counted. */
function countsOf<K extends string>(keys: readonly K[], rows: readonly { count: number }[], keyOf: (row: never) => string): Record<K, number> {
  const counts = new Map(rows.map((row) => [keyOf(row as never), row.count]));
  return Object.fromEntries(keys.map((key) => [key, counts.get(key) ?? 0])) as Record<K, number>;
}

/**
 * Samples Postgres every STREAM_INTERVAL_MS while at least one subscriber listens: rates and
 * accept → result percentiles over the last STREAM_WINDOW_SECONDS, queue depth per priority, open
 * dead letters, outbox backlog, reservations by status, low-stock counts, and the jobs and dead
 * letters that changed since the sample before. Counted from the database, so the work of every
 * api and worker process is in it, and the cost is one sample per process whatever the listeners.
 */
export function createLiveFeed(db: Queryable, config: Pick<Config, 'STREAM_INTERVAL_MS' | 'STREAM_WINDOW_SECONDS'>, logger: Logger): LiveFeed {
  const listeners = new Set<(event: LiveEvent) => void>();
  let latest: MetricsSnapshot | null = null;
  let changesSeenUntil: Date | null = null;
  let timer: NodeJS.Timeout | null = null;
  let sampling = false;

  const emit = (event: LiveEvent) => {
    for (const listener of listeners) listener(event);
  };

  const sample = async (): Promise<void> => {
    const windowMs = config.STREAM_WINDOW_SECONDS * 1000;
    const [jobs, queued, openDeadLetters, outbox, reservations, lowStock] = await Promise.all([
      sampleJobFigures(db, new Date(Date.now() - windowMs)),
      countQueuedByPriority(db),
      countOpenDeadLetters(db),
      outboxBacklog(db),
      countReservationsByStatus(db, new Date()),
      findLowStock(db, { now: new Date(), limit: 1, offset: 0 }),
    ]);
    const snapshot: MetricsSnapshot = {
      at: jobs.at,
      windowSeconds: config.STREAM_WINDOW_SECONDS,
      jobs: {
        acceptedPerSecond: jobs.accepted / config.STREAM_WINDOW_SECONDS,
        succeededPerSecond: jobs.succeeded / config.STREAM_WINDOW_SECONDS,
        failedPerSecond: jobs.failed / config.STREAM_WINDOW_SECONDS,
        latencyMs: { p50: jobs.p50Ms, p99: jobs.p99Ms },
      },
      queueDepth: countsOf(priorities, queued, (row: { priority: string }) => row.priority),
      deadLetters: { open: openDeadLetters },
      outbox,
      reservations: countsOf(reservationStatuses, reservations, (row: { status: string }) => row.status),
      lowStock: { critical: lowStock.criticalItems, low: lowStock.totalItems - lowStock.criticalItems },
    };
    const until = new Date(jobs.at.getTime() - commitLagMs);
    const after = changesSeenUntil ?? until;
    const [jobChanges, letterChanges] =
      after < until
        ? await Promise.all([listJobChanges(db, after, until, changesPerSample), listDeadLetterChanges(db, after, until, changesPerSample)])
        : [[], []];
    changesSeenUntil = until;
    latest = snapshot;
    emit({ name: 'metrics', data: snapshot });
    for (const change of jobChanges.reverse()) emit({ name: 'job', data: change });
    for (const change of letterChanges.reverse()) emit({ name: 'dead-letter', data: change });
  };

  const tick = () => {
    if (sampling) return;
    sampling = true;
    sample()
      .catch((error: unknown) => logger.warn({ err: error }, 'could not sample the live figures'))
      .finally(() => {
        sampling = false;
      });
  };

  const stop = () => {
    if (timer) clearInterval(timer);
    timer = null;
    changesSeenUntil = null;
    latest = null;
  };

  return {
    subscribe(listener) {
      listeners.add(listener);
      if (latest) listener({ name: 'metrics', data: latest });
      if (!timer) {
        timer = setInterval(tick, config.STREAM_INTERVAL_MS);
        tick();
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) stop();
      };
    },
    close() {
      listeners.clear();
      stop();
    },
  };
}
