/** The backorders application: what the HTTP routes call for backorders; it owns each call's transaction. */
import type { Pool } from 'pg';
import { withTransaction } from '../../db/client';
import type { Backorder, BackorderPage, ListBackordersQuery } from '../../schemas/backorders';
import { cancelBackorder, findBackorders } from './backorders';

export type BackordersApp = {
  find(query: ListBackordersQuery): Promise<BackorderPage>;
  /** Cancels an OPEN backorder; 404 when unknown, 409 when it is no longer open. */
  cancel(backorderId: string): Promise<Backorder>;
};

/** The backorders application of one process. Backorders are filled by replenishment, never by a call. */
export function createBackordersApp({ pool }: { pool: Pool }): BackordersApp {
  return {
    find: (query) => findBackorders(pool, query),
    cancel: (backorderId) => withTransaction(pool, (tx) => cancelBackorder(tx, backorderId, new Date())),
  };
}
