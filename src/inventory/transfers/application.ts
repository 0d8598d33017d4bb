/** The transfers application: what the HTTP routes call for transfers; it owns each call's transaction, Idempotency-Key and answer status. */
import type { Pool } from 'pg';
import type { Caller } from '../../auth/tokens';
import type { Transaction } from '../../db/client';
import {
  transferSchema,
  type CancelTransferBody,
  type ListTransfersQuery,
  type ReceiveTransferBody,
  type TransferBody,
  type TransferPage,
  type TransferView,
} from '../../schemas/transfers';
import { fillBackorders } from '../backorders/backorders';
import { keptOperation, type IdempotentAnswer } from '../idempotency';
import { cancelTransfer, findTransfers, getTransfer, initiateTransfer, receiveTransfer, type TransferOutcome } from './transfer';

export type TransfersApp = {
  /** The stock leaves at once and travels IN_TRANSIT (201). */
  initiate(caller: Caller, key: string | undefined, body: TransferBody): Promise<IdempotentAnswer<TransferView>>;
  /** What arrived is taken in, the rest stays on its way or is recorded short (200); the arrived stock then fills waiting backorders. */
  receive(caller: Caller, key: string | undefined, transferId: string, body: ReceiveTransferBody): Promise<IdempotentAnswer<TransferView>>;
  /** The units still on their way go back to the lots they left (200); they then fill waiting backorders at the source. */
  cancel(caller: Caller, key: string | undefined, transferId: string, body: CancelTransferBody): Promise<IdempotentAnswer<TransferView>>;
  get(transferId: string): Promise<TransferView>;
  find(query: ListTransfersQuery): Promise<TransferPage>;
};

/**
 * Runs a change of a transfer that may bring stock in, then fills the waiting backorders of what
 * came in. The change locks the transfer, then every lot of its products (lockFor), so the fill
 * only takes locks the transaction holds.
 */
async function thenFillBackorders(tx: Transaction, actor: string, change: (now: Date) => Promise<TransferOutcome>) {
  const now = new Date();
  const outcome = await change(now);
  await fillBackorders(tx, outcome.replenishedProductIds, now, actor);
  return { status: 200, body: outcome.answer };
}

/** The transfers application of one process. */
export function createTransfersApp({ pool }: { pool: Pool }): TransfersApp {
  const initiate = keptOperation(pool, 'transfer', transferSchema);
  const receive = keptOperation(pool, 'transfer-receive', transferSchema);
  const cancel = keptOperation(pool, 'transfer-cancel', transferSchema);
  return {
    initiate: (caller, key, body) => initiate(caller, key, body, async (tx) => ({ status: 201, body: await initiateTransfer(tx, body, caller.sub) })),
    receive: (caller, key, transferId, body) =>
      receive(caller, key, { id: transferId, ...body }, (tx) =>
        thenFillBackorders(tx, caller.sub, (now) => receiveTransfer(tx, transferId, body, caller.sub, now)),
      ),
    cancel: (caller, key, transferId, body) =>
      cancel(caller, key, { id: transferId, ...body }, (tx) =>
        thenFillBackorders(tx, caller.sub, (now) => cancelTransfer(tx, transferId, body, caller.sub, now)),
      ),
    get: (transferId) => getTransfer(pool, transferId, new Date()),
    find: (query) => findTransfers(pool, query, new Date()),
  };
}
