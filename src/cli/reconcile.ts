import type { Queryable } from '../db/client';
import { createPool } from '../db/client';
import { findLedgerDifferences } from '../db/lot-store';
import { loadConfig } from '../config';

/** Recomputes every lot from the ledger, writes what differs, and says whether all agreed. */
export async function reconcile(db: Queryable, write: (line: string) => void): Promise<boolean> {
  const { lotsChecked, differences } = await findLedgerDifferences(db);
  for (const difference of differences) {
    const { stored, ledger } = difference;
    write(
      `lot ${difference.lotId} (product ${difference.productId}, warehouse ${difference.warehouseId}): ` +
        `stored on hand ${stored.quantity} / reserved ${stored.reserved} / allocated ${stored.allocated}, ` +
        `ledger says ${ledger.quantity} / ${ledger.reserved} / ${ledger.allocated}`,
    );
  }
  write(differences.length === 0 ? `reconciled: ${lotsChecked} lots match the ledger` : `${differences.length} of ${lotsChecked} lots differ from the ledger`);
  return differences.length === 0;
}

if (require.main === module) {
  const config = loadConfig();
  const pool = createPool(config.DATABASE_URL, 1);
  reconcile(pool, (line) => process.stdout.write(`${line}\n`))
    .then((clean) => {
      process.exitCode = clean ? 0 : 1;
    })
    .catch((error: unknown) => {
      process.stderr.write(`reconcile failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 2;
    })
    .finally(() => void pool.end());
}
