/**
 * Backpressure on allocation jobs: new work is refused once the work accepted but not yet served
 * reaches its bound, so the queue (and with it every job's wait) stays bounded however fast callers
 * send. A bound of 0 accepts everything.
 */

/**
 * Whether `incoming` more jobs would take the backlog past its bound: a call (one job, or a batch)
 * is taken whole or refused whole. A batch larger than the bound itself needs an empty backlog,
 * so it is not refused for ever.
 */
export function backlogFull(backlog: number, maxBacklog: number, incoming = 1): boolean {
  return maxBacklog > 0 && backlog + Math.min(incoming, maxBacklog) > maxBacklog;
}

/**
 * How long a refused caller should wait: the time the workers take, at the rate they served lately,
 * to bring the backlog back under its bound with room for the call's jobs — but never less than
 * `minMs` (an api process sees the backlog fall only at its next count) nor more than `maxMs`; the
 * most when nothing was served lately (workers away).
 */
export function retryWaitMs(backlog: number, maxBacklog: number, incoming: number, servedPerSecond: number, minMs: number, maxMs: number): number {
  if (servedPerSecond <= 0) return maxMs;
  const excess = backlog + Math.min(incoming, maxBacklog) - maxBacklog;
  return Math.min(maxMs, Math.max(minMs, Math.ceil((excess / servedPerSecond) * 1000)));
}
