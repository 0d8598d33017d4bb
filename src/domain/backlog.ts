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
