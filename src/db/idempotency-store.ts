import { queryRow, type Queryable, type Transaction } from './client';

export type StoredResponse = { requestHash: string; responseStatus: number; responseBody: unknown };

/** The answer first given under this key, if any. */
export async function findStoredResponse(db: Queryable, scope: string, key: string): Promise<StoredResponse | undefined> {
  return queryRow<StoredResponse>(
    db,
    `select request_hash as "requestHash", response_status as "responseStatus", response_body as "responseBody"
       from idempotency_keys where scope = $1 and key = $2`,
    [scope, key],
  );
}

/**
 * Keeps the answer under its key; false when another transaction kept one first (this insert waits
 * for that transaction, so the loser learns of the winner only after it committed).
 */
export async function storeResponse(tx: Transaction, scope: string, key: string, response: StoredResponse): Promise<boolean> {
  const row = await queryRow(
    tx,
    `insert into idempotency_keys (scope, key, request_hash, response_status, response_body)
     values ($1, $2, $3, $4, $5) on conflict do nothing returning 1`,
    [scope, key, response.requestHash, response.responseStatus, JSON.stringify(response.responseBody)],
  );
  return row !== undefined;
}
