/**
 * Backpressure on allocation jobs: new work is refused once the work accepted but not yet served
 * reaches its bound, so the queue (and with it every job's wait) stays bounded however fast callers
 * send. A bound of 0 accepts everything.
 */
export function backlogFull(backlog: number, maxBacklog: number): boolean {
  return maxBacklog > 0 && backlog >= maxBacklog;
}
