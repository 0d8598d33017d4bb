import { Command } from 'commander';
import type { Queryable } from '../db/client';
import type { LedgerDifference } from '../db/lot-store';
import type { UnitDifference } from '../db/unit-store';
import { CliError, exitCodes } from './errors';
import type { CommandContext, DatabaseTarget } from './context';
import { databaseModules } from './lazy';

/** What reconcile found: lots whose stored quantities differ from their ledger, and serial-tracked lots that differ from their units. */
export type Reconciliation = {
  clean: boolean;
  lotsChecked: number;
  differences: LedgerDifference[];
  serialLots: { lotsChecked: number; differences: UnitDifference[] };
};

/** Recomputes every lot from the ledger, and every lot of a serial-tracked product from its units. */
export async function reconcileLots(db: Queryable): Promise<Reconciliation> {
  const { lots, units } = databaseModules();
  const { lotsChecked, differences } = await lots.findLedgerDifferences(db);
  const serialLots = await units.findUnitDifferences(db);
  return { clean: differences.length === 0 && serialLots.differences.length === 0, lotsChecked, differences, serialLots };
}

/**
 * Recomputes every lot from the ledger, and every lot of a serial-tracked product from its units,
 * writes what differs, and says whether all agreed.
 */
export async function reconcile(db: Queryable, write: (line: string) => void): Promise<boolean> {
  const found = await reconcileLots(db);
  for (const line of describeReconciliation(found)) write(line);
  return found.clean;
}

function describeReconciliation({ lotsChecked, differences, serialLots }: Reconciliation): string[] {
  const lot = (difference: { lotId: string; productId: string; warehouseId: string; stored: { quantity: number; reserved: number; allocated: number } }) =>
    `lot ${difference.lotId} (product ${difference.productId}, warehouse ${difference.warehouseId}): ` +
    `stored on hand ${difference.stored.quantity} / reserved ${difference.stored.reserved} / allocated ${difference.stored.allocated}`;
  return [
    ...differences.map(
      (difference) => `${lot(difference)}, ledger says ${difference.ledger.quantity} / ${difference.ledger.reserved} / ${difference.ledger.allocated}`,
    ),
    ...serialLots.differences.map(
      (difference) => `${lot(difference)}, its units count ${difference.units.quantity} / ${difference.units.reserved} / ${difference.units.allocated}`,
    ),
    differences.length === 0 ? `reconciled: ${lotsChecked} lots match the ledger` : `${differences.length} of ${lotsChecked} lots differ from the ledger`,
    serialLots.differences.length === 0
      ? `reconciled: ${serialLots.lotsChecked} serial-tracked lots match their units`
      : `${serialLots.differences.length} of ${serialLots.lotsChecked} serial-tracked lots differ from their units`,
  ];
}

/** A failure to reach the database, with the CLI's own code for it in --json output (exit 3). */
class DatabaseFailure extends CliError {
  constructor(
    private readonly failure: 'DATABASE_NOT_FOUND' | 'DATABASE_LOGIN_REFUSED' | 'DATABASE_NOT_MIGRATED' | 'DATABASE_UNREACHABLE',
    message: string,
  ) {
    super(exitCodes.unreachable, message);
  }

  override get code(): string {
    return this.failure;
  }
}

/** A database failure in words an operator can act on: which database, where, named by which setting; never its password. */
function databaseFailure(error: unknown, database: DatabaseTarget): CliError | undefined {
  const { isConnectionError, pgCode } = databaseModules().errors;
  const url = new URL(database.url);
  const name = decodeURIComponent(url.pathname.slice(1)) || url.username || 'postgres';
  const server = `${url.hostname}:${url.port || '5432'}`;
  const fix = 'point --database-url (or STOCKROOM_DATABASE_URL) at the database the service uses, its DATABASE_URL';
  const code = pgCode(error);
  if (code === '3D000') {
    return new DatabaseFailure('DATABASE_NOT_FOUND', `The database "${name}" does not exist on ${server} (named by ${database.source}): ${fix}`);
  }
  if (code === '28P01' || code === '28000') {
    return new DatabaseFailure('DATABASE_LOGIN_REFUSED', `The database server ${server} refused the login to "${name}" (named by ${database.source}): ${fix}`);
  }
  if (code === '42P01') {
    return new DatabaseFailure(
      'DATABASE_NOT_MIGRATED',
      `The database "${name}" on ${server} (named by ${database.source}) holds no Stockroom tables: ${fix}, and migrate it`,
    );
  }
  if (isConnectionError(error) || (error as NodeJS.ErrnoException).code === 'ECONNREFUSED' || (error as NodeJS.ErrnoException).code === 'ENOTFOUND') {
    const reason = (error as NodeJS.ErrnoException).code ?? code ?? (error as Error).message;
    return new DatabaseFailure('DATABASE_UNREACHABLE', `Cannot reach the database server ${server} (named by ${database.source}): ${reason}`);
  }
  return undefined;
}

/** `stockroom reconcile`: reads the database directly; exits 1 when any lot differs from its ledger. */
export function reconcileCommand(context: CommandContext): Command {
  return new Command('reconcile')
    .description(
      'recompute every lot from the movement ledger, and serial-tracked lots from their units, read from the database (--database-url); exits 1 on any difference',
    )
    .action(async () => {
      const database = context.database();
      const pool = databaseModules().client.createPool(database.url, 1, undefined, 'stockroom-cli');
      // an error of an idle client (the server going away) is reported by the query that meets it
      pool.on('error', () => undefined);
      try {
        const found = await reconcileLots(pool);
        const { output } = context;
        if (output.json) output.out(JSON.stringify(found, null, 2));
        else for (const line of describeReconciliation(found)) output.out(line);
        if (!found.clean) context.exitCode = exitCodes.failed;
      } catch (error) {
        throw databaseFailure(error, database) ?? error;
      } finally {
        await pool.end();
      }
    });
}
