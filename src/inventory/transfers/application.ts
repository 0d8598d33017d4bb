/** The transfers application: what the HTTP routes call for transfers; it owns each call's transaction, Idempotency-Key and answer status. */
import type { Pool } from 'pg';
import type { Caller } from '../../auth/tokens';
import { lockFor } from '../../db/locks';
import { findTransferLines } from '../../db/transfer-store';
import { transferSchema, type TransferBody, type TransferView } from '../../schemas/inventory';
import { fillBackorders } from '../backorders/backorders';
import { keptOperation, type IdempotentAnswer } from '../idempotency';
import { getTransfer, initiateTransfer, receiveTransfer } from './transfer';

export type TransfersApp = {
  /** The stock leaves at once and travels IN_TRANSIT (201). */
  initiate(caller: Caller, key: string | undefined, body: TransferBody): Promise<IdempotentAnswer<TransferView>>;
  /** The transfer arrives (200); its stock then fills waiting backorders. */
  receive(caller: Caller, key: string | undefined, transferId: string): Promise<IdempotentAnswer<TransferView>>;
  get(transferId: string): Promise<TransferView>;
};

/** The transfers application of one process. */
export function createTransfersApp({ pool }: { pool: Pool }): TransfersApp {
  const initiate = keptOperation(pool, 'transfer', transferSchema);
  const receive = keptOperation(pool, 'transfer-receive', transferSchema);
  return {
    initiate: (caller, key, body) => initiate(caller, key, body, async (tx) => ({ status: 201, body: await initiateTransfer(tx, body, caller.sub) })),
    receive: (caller, key, transferId) =>
      receive(caller, key, { id: transferId }, async (tx) => {
        const now = new Date();
        // every lot of the transfer's products first: the arrival locks the stock settings at the
        // destination, and a fill locking lots after that could deadlock with a reservation
        await lockFor(tx, { products: (await findTransferLines(tx, transferId)).map((line) => line.productId) });
        const outcome = await receiveTransfer(tx, transferId, caller.sub, now);
        await fillBackorders(tx, outcome.replenishedProductIds, now, caller.sub);
        return { status: 200, body: outcome.answer };
      }),
    get: (transferId) => getTransfer(pool, transferId),
  };
}
