/**
 * The serial numbers of an adjustment's lines into and out of serial-tracked products: which lines
 * must name them, that they may come in (new, or returned after they left stock) or are available
 * (out), and what the stock change needs of them (the units received and their lives, the lots a
 * removal takes from, the serial numbers each reference asked for).
 */
import { newId } from '../../ids';
import { findTracking } from '../../db/catalogue-store';
import type { Queryable } from '../../db/client';
import { findUnitsBySerial, findUnitsBySerials } from '../../db/unit-store';
import { comingIn, repeatedSerials, type ReceivedUnit, type Tracking } from '../../domain/units';
import { AppError } from '../../errors';
import type { AdjustmentLineInput } from '../../schemas/inventory';

const DEFAULT_CONDITION = 'New';

/** The serial numbers a line names, in or out. */
function serialsOf(line: AdjustmentLineInput): string[] {
  if ('units' in line && line.units !== undefined) return line.units.map((unit) => unit.serialNumber);
  if ('serialNumbers' in line && line.serialNumbers !== undefined) return line.serialNumbers;
  return [];
}

/**
 * How each product of the lines is tracked, after refusing (400) lines that do not fit it: a
 * serial-tracked product is received and returned with `units` and leaves with `serialNumbers`, and
 * is not corrected by ADJUSTMENT (a unit is either there or written off); a lot-tracked product
 * names no serial numbers; and no serial number is named twice for one product.
 */
export async function checkSerialLines(db: Queryable, lines: readonly AdjustmentLineInput[]): Promise<Map<string, Tracking>> {
  const tracking = await findTracking(
    db,
    lines.map((line) => line.productId),
  );
  const problems: { line: number; message: string }[] = [];
  const named = new Map<string, string[]>();
  lines.forEach((line, index) => {
    const serials = serialsOf(line);
    if (tracking.get(line.productId) !== 'serial') {
      if (serials.length > 0) problems.push({ line: index, message: `product ${line.productId} is tracked by lot; give no serial numbers` });
      return;
    }
    if (line.type === 'ADJUSTMENT') {
      problems.push({
        line: index,
        message: `product ${line.productId} is tracked by serial number: receive or return units, or write off or ship them by serial number`,
      });
    } else if (serials.length === 0) {
      const field = line.type === 'RECEIPT' || line.type === 'RETURN' ? 'units' : 'serialNumbers';
      problems.push({ line: index, message: `product ${line.productId} is tracked by serial number: give ${field}, one per unit` });
    }
    named.set(line.productId, [...(named.get(line.productId) ?? []), ...serials]);
  });
  if (problems.length > 0) throw new AppError('VALIDATION_FAILED', problems[0]!.message, { problems });
  const repeated = [...named].flatMap(([productId, serials]) => repeatedSerials(serials).map((serialNumber) => ({ productId, serialNumber })));
  if (repeated.length > 0) {
    throw new AppError('VALIDATION_FAILED', 'A serial number is named more than once; nothing was changed', { duplicateSerials: repeated });
  }
  return tracking;
}

/** The life a serial number coming in starts, by product and serial number (serialKey). */
export type LivesComingIn = Map<string, { life: number; previousUnitId: string | null }>;

function serialKey(productId: string, serialNumber: string): string {
  return JSON.stringify([productId, serialNumber]);
}

/**
 * The life each serial number coming in (receipts, returns) starts (comingIn: 1 when new, the next
 * when a return brings back a unit that left stock). Refuses (409 ALREADY_EXISTS, listing them with
 * the status of their current unit) a receipt of a serial number its product has or had, and a
 * return of one still in stock.
 */
export async function livesComingIn(db: Queryable, lines: readonly AdjustmentLineInput[]): Promise<LivesComingIn> {
  const incoming = lines.filter((line) => line.type === 'RECEIPT' || line.type === 'RETURN');
  const wanted = incoming.flatMap((line) => serialsOf(line).map((serialNumber) => ({ productId: line.productId, serialNumber })));
  const current = new Map((await findUnitsBySerials(db, wanted)).map((unit) => [serialKey(unit.productId, unit.serialNumber), unit]));
  const lives: LivesComingIn = new Map();
  const refused: { productId: string; serialNumber: string; status: string }[] = [];
  for (const line of incoming) {
    for (const serialNumber of serialsOf(line)) {
      const life = comingIn(line.type, current.get(serialKey(line.productId, serialNumber)));
      if (life.ok) lives.set(serialKey(line.productId, serialNumber), { life: life.life, previousUnitId: life.previousUnitId });
      else refused.push({ productId: line.productId, serialNumber, status: life.status });
    }
  }
  if (refused.length > 0) {
    throw new AppError('ALREADY_EXISTS', 'Serial numbers already registered for their product (and not returnable); nothing was changed', {
      duplicateSerials: refused,
    });
  }
  return lives;
}

/**
 * Where the units each removal line names are, lot by lot, read under the lots' locks. Refuses
 * (409 CONFLICT, listing them) serial numbers that are unknown, elsewhere (another warehouse, not
 * the named lot) or not Available.
 */
export async function lotsOfNamedUnits(db: Queryable, lines: readonly AdjustmentLineInput[]): Promise<Map<number, { lotId: string; quantity: number }[]>> {
  const fromLots = new Map<number, { lotId: string; quantity: number }[]>();
  const unavailable: { line: number; serialNumber: string; status: string }[] = [];
  for (const [index, line] of lines.entries()) {
    if (line.type === 'RECEIPT' || line.type === 'RETURN') continue;
    const serials = serialsOf(line);
    if (serials.length === 0) continue;
    const units = new Map((await findUnitsBySerial(db, line.productId, serials)).map((unit) => [unit.serialNumber, unit]));
    const counts = new Map<string, number>();
    for (const serialNumber of serials) {
      const unit = units.get(serialNumber);
      const elsewhere =
        unit !== undefined && (unit.warehouseId !== line.warehouseId || ('lotId' in line && line.lotId !== undefined && unit.lotId !== line.lotId));
      if (unit === undefined || elsewhere || unit.status !== 'AVAILABLE') {
        unavailable.push({ line: index, serialNumber, status: unit === undefined ? 'UNKNOWN' : elsewhere ? 'ELSEWHERE' : unit.status });
      } else counts.set(unit.lotId, (counts.get(unit.lotId) ?? 0) + 1);
    }
    fromLots.set(
      index,
      [...counts].map(([lotId, quantity]) => ({ lotId, quantity })),
    );
  }
  if (unavailable.length > 0) {
    throw new AppError('CONFLICT', 'Units named by serial number are not available here; nothing was changed', { unavailableSerials: unavailable });
  }
  return fromLots;
}

/** The units a line brings into its lot, as the stock change registers them, each starting the life `lives` gives it. */
export function receivedUnits(line: AdjustmentLineInput, lotId: string, lives: LivesComingIn): ReceivedUnit[] {
  if (!('units' in line) || line.units === undefined) return [];
  return line.units.map((unit) => ({
    id: newId(),
    productId: line.productId,
    warehouseId: line.warehouseId,
    lotId,
    serialNumber: unit.serialNumber,
    condition: unit.condition ?? DEFAULT_CONDITION,
    ...lives.get(serialKey(line.productId, unit.serialNumber))!,
  }));
}

/** The serial numbers each reference of the lines takes out, as the stock change's choice. */
export function chosenSerials(lines: readonly AdjustmentLineInput[], referenceOf: (index: number) => string): Map<string, Set<string>> {
  const chosen = new Map<string, Set<string>>();
  lines.forEach((line, index) => {
    if (line.type === 'RECEIPT' || line.type === 'RETURN') return;
    const serials = serialsOf(line);
    if (serials.length === 0) return;
    const reference = referenceOf(index);
    chosen.set(reference, new Set([...(chosen.get(reference) ?? []), ...serials]));
  });
  return chosen;
}
