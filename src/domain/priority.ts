/**
 * Request priorities (SPEC §5) and the order waiting work is served in. Pure. SQL mirror: the
 * request_priority enum (src/db/schema.ts), which sorts in the order of `priorities`, and
 * backorderServingOrderSql in src/db/backorder-store.ts.
 */

/** Request priorities, lowest first: the only form a priority takes in Stockroom (the broker's levels aside, src/amqp/topology.ts). */
export const priorities = ['low', 'medium', 'high', 'critical'] as const;
export type Priority = (typeof priorities)[number];

/** What waits to be served: a job or a backorder. */
export type Waiting = { priority: Priority; createdAt: Date; id: string };

/** The serving order of waiting work: higher priority first, then earlier arrival, then id (code-unit order, as Postgres orders uuids). */
export function byPriorityThenArrival(a: Waiting, b: Waiting): number {
  return (
    priorities.indexOf(b.priority) - priorities.indexOf(a.priority) || a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}
