import { newId } from '../../ids';
import { assertKnownReferences } from '../../catalogue/catalogue';
import type { Transaction } from '../../db/client';
import { lockFor } from '../../db/locks';
import { findLotsById, insertEmptyLots } from '../../db/lot-store';
import { commitWritesReadingLedger } from '../../db/writes';
import { planAdjustments, type AdjustmentLine, type AdjustmentProblem } from '../../domain/adjustment';
import { AppError } from '../../errors';
import type { LotMovement } from '../../domain/movement';
import { outboxRows } from '../../events/outbox';
import type { AdjustBody, AdjustmentLineInput, AdjustResponse } from '../../schemas/inventory';
import { toLotView } from './lots';
import { replenishedProducts } from './replenishment';
import { stockChangeWrites } from '../stock-changes';
import { checkSerialLines, chosenSerials, livesComingIn, lotsOfNamedUnits, receivedUnits } from './serial-lines';
import { isUniqueViolationOf } from '../../db/pg-errors';

/** What an adjustment did: the answer for the caller, and the products whose stock grew. */
export type AdjustOutcome = { answer: AdjustResponse; replenishedProductIds: string[] };

function toPlanLine(line: AdjustmentLineInput, fromLots: AdjustmentLine['fromLots']): AdjustmentLine {
  const planLine: AdjustmentLine = { productId: line.productId, warehouseId: line.warehouseId, type: line.type, quantity: line.quantity };
  if (fromLots !== undefined) planLine.fromLots = fromLots;
  if ('lotId' in line && line.lotId !== undefined) planLine.lotId = line.lotId;
  if ('version' in line && line.version !== undefined) planLine.version = line.version;
  if (line.type === 'RECEIPT' || line.type === 'RETURN') {
    planLine.newLot = {
      lotNumber: line.lotNumber ?? null,
      unitCost: line.unitCost ?? null,
      expiresAt: line.expiresAt ?? null,
      binLocation: line.binLocation ?? null,
      ...(line.receivedAt === undefined ? {} : { receivedAt: line.receivedAt }),
    };
  }
  return planLine;
}

/** The error that refuses an adjustment: unknown lots first, then stale versions, then shortages. */
function refusal(problems: readonly AdjustmentProblem[]): AppError {
  const ofKind = <K extends AdjustmentProblem['kind']>(kind: K) =>
    problems.filter((problem): problem is Extract<AdjustmentProblem, { kind: K }> => problem.kind === kind).map(({ kind: _kind, ...rest }) => rest);
  const unknownLots = ofKind('unknown_lot');
  if (unknownLots.length > 0) {
    return new AppError('UNKNOWN_REFERENCE', 'The request names lots that are not lots of the product and warehouse of their line', { unknownLots });
  }
  const conflicts = ofKind('version_conflict');
  if (conflicts.length > 0) {
    return new AppError('VERSION_CONFLICT', 'A lot has changed since the given version; read it again and retry. Nothing was changed', { conflicts });
  }
  return new AppError('INSUFFICIENT_STOCK', 'Not enough available stock for every line; nothing was changed', { shortages: ofKind('insufficient_stock') });
}

/**
 * Carries out an adjustment in the caller's transaction: every line or none. Locks the lots of every
 * product and warehouse it names (in id order), plans all lines, then writes new lots, one ledger
 * row per lot change and one StockAdjusted per line. The caller's transaction may go on with more
 * work after it returns.
 */
export async function adjustStock(tx: Transaction, body: AdjustBody, actor: string, now = new Date()): Promise<AdjustOutcome> {
  const lines = body.adjustments;
  await assertKnownReferences(tx, { productIds: lines.map((line) => line.productId), warehouseIds: lines.map((line) => line.warehouseId) });
  const tracking = await checkSerialLines(tx, lines);
  const namedLots = lines.flatMap((line) => ('lotId' in line && line.lotId !== undefined ? [line.lotId] : []));
  const locks = await lockFor(tx, { places: lines, lotIds: namedLots });
  // read under the locks, so of two returns of one serial number at one warehouse the second sees the first
  const lives = await livesComingIn(tx, lines);
  const fromLots = await lotsOfNamedUnits(tx, lines);

  const plan = planAdjustments(
    lines.map((line, index) => toPlanLine(line, fromLots.get(index))),
    locks.lots,
    now,
  );
  if (!plan.ok) throw refusal(plan.problems);

  const newLotIds = await insertEmptyLots(tx, plan.newLots);
  const lotIdOf = new Map(plan.newLots.map((lot, index) => [lot.key, newLotIds[index]!]));
  const adjustmentId = newId();
  const referenceOf = (index: number) => lines[index]!.reference ?? adjustmentId;

  const movements: LotMovement[] = plan.lines.flatMap((line) =>
    line.changes.map((change) => ({
      lotId: lotIdOf.get(change.lotKey) ?? change.lotKey,
      type: line.type,
      quantityDelta: change.quantityDelta,
      reason: lines[line.index]!.reason,
      referenceType: 'adjustment',
      referenceId: referenceOf(line.index),
      actor,
    })),
  );
  const adjusted = plan.lines.map((line) => ({
    type: 'StockAdjusted' as const,
    adjustmentId,
    productId: line.productId,
    warehouseId: line.warehouseId,
    adjustmentType: line.type,
    quantity: line.adjustedQuantity,
    previousStock: line.previousQuantity,
    newStock: line.newQuantity,
    reason: lines[line.index]!.reason,
    reference: referenceOf(line.index),
    adjustedBy: actor,
    timestamp: now,
  }));
  const created = plan.newLots.map((lot, index) => ({
    id: newLotIds[index]!,
    productId: lot.productId,
    warehouseId: lot.warehouseId,
    expiresAt: lot.expiresAt ?? null,
    tracking: tracking.get(lot.productId) ?? 'lot',
  }));
  const received = plan.lines.flatMap((line) =>
    line.changes.flatMap((change) => (change.quantityDelta > 0 ? receivedUnits(lines[line.index]!, lotIdOf.get(change.lotKey) ?? change.lotKey, lives) : [])),
  );
  const chosen = chosenSerials(lines, referenceOf);
  const stock = await stockChangeWrites(tx, locks, movements, { now, created, received, chosen });
  // StockAdjusted goes first, ahead of the LowStockAlert it may cause
  const written = await commitWritesReadingLedger(tx, { outbox: outboxRows(adjusted, now) }, stock).catch((error: unknown) => {
    // a receipt or return of the same serial number committed since livesComingIn looked
    if (isUniqueViolationOf(error, 'stock_units_product_serial_life_key') || isUniqueViolationOf(error, 'stock_units_product_serial_in_stock_key')) {
      throw new AppError('ALREADY_EXISTS', 'Serial numbers already registered for their product; nothing was changed');
    }
    throw error;
  });
  // the lots are ours until commit; reading them again gives their versions after the change
  const changedLots = await findLotsById(tx, [...new Set(movements.map((movement) => movement.lotId))]);

  let next = 0;
  const adjustments = plan.lines.map((line) => {
    const rows = written.slice(next, next + line.changes.length);
    next += line.changes.length;
    return {
      productId: line.productId,
      warehouseId: line.warehouseId,
      type: line.type,
      reason: lines[line.index]!.reason,
      reference: referenceOf(line.index),
      adjustedQuantity: line.adjustedQuantity,
      previousQuantity: line.previousQuantity,
      newQuantity: line.newQuantity,
      movements: rows.map((row) => ({ movementId: row.id, lotId: row.lotId, quantityDelta: row.quantityDelta })),
    };
  });

  return {
    answer: { adjustmentId, status: 'COMPLETED', adjustments, lots: changedLots.map(toLotView), adjustedAt: now, adjustedBy: actor },
    replenishedProductIds: replenishedProducts(written),
  };
}
