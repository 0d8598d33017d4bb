/**
 * commitWrites: the one way a use case writes what it decided. A use case reads and locks first
 * (lockFor), decides in pure code, and hands the rows to write here as data; they go out as ONE
 * statement, each kind of row a part of its WITH, so a batch of hundreds of requests costs one
 * round trip for all its writes.
 *
 * Postgres runs the parts of one statement on one snapshot, in no set order, and checks foreign
 * keys at its end: a part may insert rows another part's rows reference, but no part may read what
 * another writes, nor may two parts change the same row. Each kind below is one part, and a use
 * case names each row once.
 */
import { AppError } from '../errors';
import type { LotMovement } from '../domain/movement';
import type { NewBackorder } from '../domain/backorder';
import type { LowStockAlerts } from '../domain/low-stock';
import type { NewReservation, NewReservationLine, StatusChange } from '../domain/reservation';
import type { ReceivedUnit, UnitChange } from '../domain/units';
import { allocationResultsInsert, allocationStatusesUpdate, type FinishedAllocation } from './allocation-store';
import { backordersInsert, backorderFillsUpdate, type BackorderFillRecord } from './backorder-store';
import { queryPreparedRows, type Transaction } from './client';
import { responsesInsert, type KeptResponse } from './idempotency-store';
import { ledgerRows, movementsWrite, type MovementRow } from './lot-store';
import { lowStockAlertsUpdate, type StockPair } from './low-stock-store';
import { lockAggregates, outboxInsert, type OutboxInsert } from './outbox-store';
import {
  reservationLinesInsert,
  reservationLinesUpdate,
  reservationsInsert,
  reservationsUpdate,
  statusHistoryInsert,
  type LineChange,
  type ReservationChange,
} from './reservation-store';
import { join, raw, sql, toQuery, type Sql } from './sql';
import { unitHistoryInsert, unitsInsert, unitsUpdate, type UnitStepRow } from './unit-store';

/** Everything a use case may write at the end of its transaction; absent or empty kinds write nothing. */
export type Writes = {
  /** lot changes, each with its ledger row; the lots must be locked (lockFor) */
  movements?: readonly LotMovement[];
  reservations?: readonly NewReservation[];
  reservationChanges?: readonly ReservationChange[];
  reservationLines?: readonly NewReservationLine[];
  lineChanges?: readonly LineChange[];
  statusHistory?: readonly StatusChange[];
  backorders?: readonly NewBackorder[];
  backorderFills?: readonly BackorderFillRecord[];
  lowStockAlerts?: readonly (StockPair & { alerts: LowStockAlerts })[];
  /** units of serial-tracked products received, their new states and every step for their histories (stockChangeWrites makes them beside their movements) */
  unitsReceived?: readonly (ReceivedUnit & { at: Date })[];
  unitChanges?: readonly (UnitChange & { at: Date })[];
  unitSteps?: readonly UnitStepRow[];
  /** events, completed (see events/outbox.ts), in the order they are to be published */
  outbox?: readonly OutboxInsert[];
  finishedAllocations?: readonly FinishedAllocation[];
  /** answers kept under Idempotency-Keys; a key kept already fails the whole statement */
  keptResponses?: readonly KeptResponse[];
};

type Kind = keyof Writes;

const kinds: readonly Kind[] = [
  'movements',
  'reservations',
  'reservationChanges',
  'reservationLines',
  'lineChanges',
  'statusHistory',
  'backorders',
  'backorderFills',
  'lowStockAlerts',
  'unitsReceived',
  'unitChanges',
  'unitSteps',
  'outbox',
  'finishedAllocations',
  'keptResponses',
];

type Row<K extends Kind> = NonNullable<Writes[K]>[number];

/** The rows of one kind of every batch, in order: the batch's own array when only one batch has any, so rows are copied only to merge. */
function concat<K extends Kind>(batches: readonly Writes[], kind: K): readonly Row<K>[] {
  const present: (readonly Row<K>[])[] = [];
  for (const batch of batches) {
    const rows = batch[kind] as readonly Row<K>[] | undefined;
    if (rows !== undefined && rows.length > 0) present.push(rows);
  }
  return present.length === 1 ? present[0]! : present.flat();
}

/** One batch of writes holding every given batch's rows, kind by kind in argument order. */
export function mergeWrites(...batches: Writes[]): Writes {
  const entries = kinds.map((kind) => [kind, concat(batches, kind)] as const).filter(([, rows]) => rows.length > 0);
  return Object.fromEntries(entries);
}

/** The parts of the statement, in a fixed order; the ledger part is apart, as the others' results are not read. */
function partsOf(batches: readonly Writes[]): Sql[] {
  const parts: Sql[] = [];
  const add = <K extends Kind>(kind: K, part: (rows: readonly Row<K>[]) => Sql | Sql[]) => {
    const rows = concat(batches, kind);
    if (rows.length > 0) parts.push(...[part(rows)].flat());
  };
  add('reservations', reservationsInsert);
  add('reservationChanges', reservationsUpdate);
  add('reservationLines', reservationLinesInsert);
  add('lineChanges', reservationLinesUpdate);
  add('statusHistory', statusHistoryInsert);
  add('backorders', backordersInsert);
  add('backorderFills', backorderFillsUpdate);
  add('lowStockAlerts', lowStockAlertsUpdate);
  add('unitsReceived', unitsInsert);
  add('unitChanges', unitsUpdate);
  add('unitSteps', unitHistoryInsert);
  add('outbox', outboxInsert);
  add('finishedAllocations', (rows) => [allocationResultsInsert(rows), allocationStatusesUpdate(rows)]);
  add('keptResponses', responsesInsert);
  return parts;
}

/** The stock aggregates whose events are written: their advisory locks come before the insert (see outbox-store lockAggregates). */
function stockAggregates(outbox: readonly OutboxInsert[]): string[] {
  return outbox.filter((row) => row.aggregateType === 'stock').map((row) => `${row.aggregateType}:${row.aggregateId}`);
}

/** The lots the ledger rows of a write name, each once: fewer than the movements name means a lot to change does not exist. */
const ledgerLots = sql`select distinct lot_id as "lotId" from ledger`;

/**
 * Writes every batch given, merged kind by kind in argument order, as one statement (plus, before
 * it, the advisory locks of stock aggregates whose events are written, when there are any), ending
 * with `ledgerSelect` over the ledger rows of the movements. A movement of a lot that does not exist
 * throws NOT_FOUND; any failing part fails the whole statement, and the caller's transaction rolls back.
 */
async function writeAll<T extends { lotId: string }>(tx: Transaction, batches: readonly Writes[], ledgerSelect: Sql): Promise<T[]> {
  const movements = concat(batches, 'movements');
  const parts = partsOf(batches);
  const aggregates = stockAggregates(concat(batches, 'outbox'));
  if (aggregates.length > 0) await lockAggregates(tx, aggregates);

  if (movements.length === 0) {
    if (parts.length === 0) return [];
    const last = parts.pop()!;
    const { text, values } = toQuery(parts.length === 0 ? last : sql`with ${named(parts)}\n${last}`);
    await queryPreparedRows(tx, text, values);
    return [];
  }
  const ctes = [movementsWrite(movements), ...(parts.length > 0 ? [named(parts)] : [])];
  const { text, values } = toQuery(sql`with ${join(ctes, ',\n')}\n${ledgerSelect}`);
  const rows = await queryPreparedRows<T>(tx, text, values);
  const found = new Set(rows.map((row) => row.lotId));
  const missing = [...new Set(movements.map((movement) => movement.lotId))].filter((id) => !found.has(id));
  if (missing.length > 0) throw new AppError('NOT_FOUND', 'A lot to change does not exist', { lotIds: missing });
  return rows;
}

/**
 * Writes every batch given, merged kind by kind in argument order, as one statement (see writeAll).
 * Reads back only which lots the ledger rows name; a caller that needs the rows themselves uses
 * commitWritesReadingLedger.
 */
export async function commitWrites(tx: Transaction, ...batches: Writes[]): Promise<void> {
  await writeAll(tx, batches, ledgerLots);
}

/** As commitWrites, and returns the ledger rows of the movements, in their order. */
export async function commitWritesReadingLedger(tx: Transaction, ...batches: Writes[]): Promise<MovementRow[]> {
  return writeAll<MovementRow>(tx, batches, ledgerRows);
}

/** `part0 as (…), part1 as (…)` */
function named(parts: readonly Sql[]): Sql {
  return join(
    parts.map((part, index) => sql`${raw(`part${index}`)} as (${part})`),
    ',\n',
  );
}
