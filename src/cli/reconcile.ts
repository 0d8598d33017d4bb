import { Command } from 'commander';
import type { Queryable } from '../db/client';
import { isConnectionError, pgCode } from '../db/pg-errors';
import { CliError, exitCodes } from './errors';
import type { CommandContext } from './context';

/**
 * Recomputes every lot from the ledger, and every lot of a serial-tracked product from its units,
 * writes what differs, and says whether all agreed.
 */
export async function reconcile(db: Queryable, write: (line: string) => void): Promise<boolean> {
  const { findLedgerDifferences } = databaseModules().lots;
  const { findUnitDifferences } = databaseModules().units;
  const { lotsChecked, differences } = await findLedgerDifferences(db);
  const units = await findUnitDifferences(db);
  for (const difference of differences) {
    const { stored, ledger } = difference;
    write(
      `lot ${difference.lotId} (product ${difference.productId}, warehouse ${difference.warehouseId}): ` +
        `stored on hand ${stored.quantity} / reserved ${stored.reserved} / allocated ${stored.allocated}, ` +
        `ledger says ${ledger.quantity} / ${ledger.reserved} / ${ledger.allocated}`,
    );
  }
  for (const difference of units.differences) {
    const { stored, units: counted } = difference;
    write(
      `lot ${difference.lotId} (product ${difference.productId}, warehouse ${difference.warehouseId}): ` +
        `stored on hand ${stored.quantity} / reserved ${stored.reserved} / allocated ${stored.allocated}, ` +
        `its units count ${counted.quantity} / ${counted.reserved} / ${counted.allocated}`,
    );
  }
  write(differences.length === 0 ? `reconciled: ${lotsChecked} lots match the ledger` : `${differences.length} of ${lotsChecked} lots differ from the ledger`);
  write(
    units.differences.length === 0
      ? `reconciled: ${units.lotsChecked} serial-tracked lots match their units`
      : `${units.differences.length} of ${units.lotsChecked} serial-tracked lots differ from their units`,
  );
  return differences.length === 0 && units.differences.length === 0;
}

/**
 * The database modules, loaded on first use: pg and drizzle take half a second to load, which
 * every other command of the CLI would pay for nothing. require(), not import(): the CLI runs under
 * tsx's CommonJS hook, which compiles required .ts files but leaves import() to Node.
 */
function databaseModules(): { client: typeof import('../db/client'); lots: typeof import('../db/lot-store'); units: typeof import('../db/unit-store') } {
  return {
    client: require('../db/client') as typeof import('../db/client'),
    lots: require('../db/lot-store') as typeof import('../db/lot-store'),
    units: require('../db/unit-store') as typeof import('../db/unit-store'),
  };
}

/** `stockroom reconcile`: runs against DATABASE_URL directly; exits 1 when any lot differs from its ledger. */
export function reconcileCommand(context: CommandContext): Command {
  return new Command('reconcile')
    .description('recompute every lot from the movement ledger, and serial-tracked lots from their units (reads DATABASE_URL); exits 1 on any difference')
    .action(async () => {
      const { DATABASE_URL } = context.config();
      const pool = databaseModules().client.createPool(DATABASE_URL, 1);
      try {
        const clean = await reconcile(pool, (line) => context.output.out(line));
        if (!clean) context.exitCode = exitCodes.failed;
      } catch (error) {
        const code = pgCode(error);
        if (isConnectionError(error) || code === '3D000') {
          throw new CliError(
            exitCodes.unreachable,
            `Cannot reach the database ${new URL(DATABASE_URL).pathname.slice(1)}: ${(error as Error).message || code}`,
          );
        }
        throw error;
      } finally {
        await pool.end();
      }
    });
}
