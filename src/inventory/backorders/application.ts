/**
 * The backorders application: what the HTTP routes call for backorders; it owns each call's
 * transaction. Every call acts in the caller's owner scope: another owner's backorder reads as not found.
 */
import type { Pool } from 'pg';
import type { Caller } from '../../auth/tokens';
import { withTransaction } from '../../db/client';
import { scopeOf } from '../../domain/ownership';
import type { Backorder, BackorderPage, ListBackordersQuery } from '../../schemas/backorders';
import { cancelBackorder, findBackorders } from './backorders';

export type BackordersApp = {
  /** The caller's own backorders (an admin's: everyone's, or one owner's) matching the query. */
  find(caller: Caller, query: ListBackordersQuery): Promise<BackorderPage>;
  /** Cancels an OPEN backorder; 404 when unknown or another owner's, 409 when it is no longer open. */
  cancel(caller: Caller, backorderId: string): Promise<Backorder>;
};

/** The backorders application of one process. Backorders are filled by replenishment, never by a call. */
export function createBackordersApp({ pool }: { pool: Pool }): BackordersApp {
  return {
    find: (caller, query) => findBackorders(pool, query, scopeOf(caller)),
    cancel: (caller, backorderId) => withTransaction(pool, (tx) => cancelBackorder(tx, backorderId, new Date(), scopeOf(caller))),
  };
}
