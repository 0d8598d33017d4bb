/** The planner: which lots give how much to each line of a request, or why a line is short. Pure; never mutates its inputs. */
import { isExpired } from './expiry';
import type { Priority } from './priority';
import { chooseTakes, type CandidateLot, type StrategyChoice, type StrategyContext } from './strategies';

/**
 * One product and quantity wanted; a warehouseId pins the line to that warehouse. `fromLots` (units
 * named by serial number) fixes what the line takes from each lot instead of a strategy: all of it
 * or, if any lot cannot give its part, nothing.
 */
export type PlanLine = { productId: string; quantity: number; warehouseId?: string; fromLots?: readonly { lotId: string; quantity: number }[] };
/** A request to plan: its lines in order, how to choose lots, and whether a short request may take what it can. */
export type PlanRequest = { lines: PlanLine[]; priority: Priority; allowPartial: boolean } & StrategyChoice;
/** Units of one lot given to one line. */
export type LotTake = { lineIndex: number; productId: string; warehouseId: string; lotId: string; lotNumber: string | null; quantity: number };
/** A line that cannot be served in full, with what it could have got. */
export type Shortfall = { lineIndex: number; productId: string; requested: number; available: number; missing: number };
/** The outcome of planning one request. */
export type Plan = { takes: LotTake[]; shortfalls: Shortfall[]; outcome: 'complete' | 'partial' | 'none' };

/** Plans one request against candidate lots (any products; lines only use lots of their product and pinned warehouse). All-or-nothing when !allowPartial: any short line => no takes at all, shortfalls listed with what WAS available. Two lines of the same product share the lots (the second sees what the first left). */
export function plan(request: PlanRequest, lots: readonly CandidateLot[], now: Date): Plan {
  return planAgainst(request, lotsByProduct(lots), remainingByLot(lots), now);
}

/** Plans requests one after another in the given order against the same lots, each seeing what the earlier ones took; returns one plan per request (same order). This is how a worker serves a batch of requests for a hot product under one lock. */
export function planMany(requests: readonly PlanRequest[], lots: readonly CandidateLot[], now: Date): Plan[] {
  const remaining = remainingByLot(lots);
  const byProduct = lotsByProduct(lots);
  return requests.map((request) => {
    const result = planAgainst(request, byProduct, remaining, now);
    takeFrom(remaining, result.takes);
    return result;
  });
}

/**
 * Whether two lists of candidate lots are the same to the planner: the same lots in the same order,
 * each with every fact equal (dates by instant). planMany is pure, so it plans requests alike
 * against either: a batch may plan against lots read before it locked them, and keep those plans
 * when the locked lots are the same.
 */
export function sameCandidates(a: readonly CandidateLot[], b: readonly CandidateLot[]): boolean {
  return a.length === b.length && a.every((lot, index) => sameFacts(lot, b[index]));
}

/** Deep equality of plain data: dates by instant, objects key by key. */
function sameFacts(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return Object.is(a, b);
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  return keys.length === Object.keys(right).length && keys.every((key) => Object.hasOwn(right, key) && sameFacts(left[key], right[key]));
}

/** The lots of each product, in their given order: a line looks only at its product's, however many lots a batch locked. */
function lotsByProduct(lots: readonly CandidateLot[]): Map<string, CandidateLot[]> {
  const byProduct = new Map<string, CandidateLot[]>();
  for (const lot of lots) {
    const ofProduct = byProduct.get(lot.productId);
    if (ofProduct === undefined) byProduct.set(lot.productId, [lot]);
    else ofProduct.push(lot);
  }
  return byProduct;
}

function remainingByLot(lots: readonly CandidateLot[]): Map<string, number> {
  const remaining = new Map<string, number>();
  for (const lot of lots) {
    // the planner books by lot id; two lots under one id would let it give the same units twice
    if (remaining.has(lot.id)) throw new Error(`lot ${lot.id} appears twice among the candidates`);
    remaining.set(lot.id, lot.available);
  }
  return remaining;
}

function takeFrom(remaining: Map<string, number>, takes: readonly LotTake[]): void {
  for (const take of takes) remaining.set(take.lotId, (remaining.get(take.lotId) ?? 0) - take.quantity);
}

/** A line's fixed takes when every named lot (not expired) can give its part and they add up to the line, else none. */
function fixedTakes(candidates: ReadonlyMap<string, CandidateLot>, line: PlanLine, now: Date): { lotId: string; quantity: number }[] {
  const fixed = line.fromLots ?? [];
  const fits = fixed.every(({ lotId, quantity }) => {
    const lot = candidates.get(lotId);
    return lot !== undefined && !isExpired(lot, now) && lot.available >= quantity;
  });
  return fits && fixed.reduce((sum, take) => sum + take.quantity, 0) === line.quantity ? fixed.map((take) => ({ ...take })) : [];
}

function planAgainst(request: PlanRequest, lotsOf: ReadonlyMap<string, readonly CandidateLot[]>, remaining: ReadonlyMap<string, number>, now: Date): Plan {
  const ctx: StrategyContext = { ...request, now };
  // what this request took, apart from the shared stock: a refused all-or-nothing request must leave it as it found it
  const left = new Map<string, number>();
  const takes: LotTake[] = [];
  const shortfalls: Shortfall[] = [];

  request.lines.forEach((line, lineIndex) => {
    const candidates = new Map(
      (lotsOf.get(line.productId) ?? [])
        .filter((lot) => line.warehouseId === undefined || lot.warehouseId === line.warehouseId)
        .map((lot) => [lot.id, { ...lot, available: left.get(lot.id) ?? remaining.get(lot.id) ?? 0 }]),
    );
    let got = 0;
    for (const choice of line.fromLots === undefined ? chooseTakes([...candidates.values()], line.quantity, ctx) : fixedTakes(candidates, line, now)) {
      const lot = candidates.get(choice.lotId);
      if (lot === undefined) throw new Error(`strategy chose lot ${choice.lotId}, which was not a candidate`);
      takes.push({
        lineIndex,
        productId: line.productId,
        warehouseId: lot.warehouseId,
        lotId: lot.id,
        lotNumber: lot.lotNumber,
        quantity: choice.quantity,
      });
      left.set(lot.id, lot.available - choice.quantity);
      got += choice.quantity;
    }
    if (got < line.quantity) {
      shortfalls.push({ lineIndex, productId: line.productId, requested: line.quantity, available: got, missing: line.quantity - got });
    }
  });

  if (shortfalls.length === 0) return { takes, shortfalls, outcome: 'complete' };
  if (!request.allowPartial || takes.length === 0) return { takes: [], shortfalls, outcome: 'none' };
  return { takes, shortfalls, outcome: 'partial' };
}
