import type { Pool } from 'pg';
import { withTransaction } from '../../src/db/client';
import { commitWrites } from '../../src/db/writes';
import { serve, type EngineRequest, type ServeContext, type ServedRequest } from '../../src/inventory/engine';

/** Serves requests in one transaction and commits what the engine returned; every request must be served (none refused). */
export async function serveAndCommit(pool: Pool, requests: readonly EngineRequest[], ctx: ServeContext): Promise<ServedRequest[]> {
  return withTransaction(pool, async (tx) => {
    const { outcomes, writes } = await serve(tx, requests, ctx);
    await commitWrites(tx, writes);
    return outcomes.map((outcome) => {
      if (outcome.outcome === 'unknown_reference' || outcome.outcome === 'discontinued') throw new Error(`request ${outcome.key} was refused`);
      return outcome;
    });
  });
}
