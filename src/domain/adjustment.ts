/**
 * Stock adjustments by hand (receipts, shipments, returns, write-offs, corrections): works out, line by
 * line and before anything is written, which lots each line changes and which new lots it needs.
 * Pure; the clock arrives as `now`.
 */
import { available } from './quantities';
import { oldestFirst, takeOldestFirst, type Removal, type RemovableLot } from './removal';

/** The kinds of adjustment an admin may make (seed 002). */
export const adjustmentTypes = ['RECEIPT', 'SHIPMENT', 'ADJUSTMENT', 'RETURN', 'WRITE_OFF'] as const;
export type AdjustmentType = (typeof adjustmentTypes)[number];

/** What a new lot starts with besides its quantity. */
export type NewLotFacts = {
  lotNumber: string | null;
  unitCost: number | null;
  expiresAt: Date | null;
  receivedAt: Date;
  binLocation: string | null;
};

/**
 * One line of an adjustment. `quantity` is positive for RECEIPT, RETURN (units in) and SHIPMENT,
 * WRITE_OFF (units out); for ADJUSTMENT its sign says in or out. `lotId` names the lot to change;
 * `version` is the version of that lot the caller last saw.
 */
export type AdjustmentLine = {
  productId: string;
  warehouseId: string;
  type: AdjustmentType;
  quantity: number;
  lotId?: string;
  version?: number;
  newLot?: Partial<NewLotFacts>;
  /** what a removal takes from each lot instead of oldest first: where the serial numbers it names are */
  fromLots?: readonly { lotId: string; quantity: number }[];
};

/** A lot as it stood, locked, before the adjustment. */
export type ExistingLot = {
  id: string;
  productId: string;
  warehouseId: string;
  receivedAt: Date;
  quantity: number;
  reservedQuantity: number;
  allocatedQuantity: number;
  version: number;
};

/** A lot the adjustment creates; `key` stands for its id until it is written. */
export type PlannedLot = NewLotFacts & { key: string; productId: string; warehouseId: string };

/** A change of one lot's on-hand quantity; `lotKey` is a lot id or the key of a planned lot. */
export type LotChange = { lotKey: string; quantityDelta: number };

/** What one line does: on hand of its product at its warehouse before and after, and the lot changes. */
export type PlannedLine = {
  index: number;
  productId: string;
  warehouseId: string;
  type: AdjustmentType;
  adjustedQuantity: number;
  previousQuantity: number;
  newQuantity: number;
  changes: LotChange[];
};

/** Why a line cannot be carried out; any problem refuses the whole adjustment. */
export type AdjustmentProblem =
  | { kind: 'unknown_lot'; line: number; lotId: string; productId: string; warehouseId: string }
  | { kind: 'version_conflict'; line: number; lotId: string; expectedVersion: number; actualVersion: number }
  | { kind: 'insufficient_stock'; line: number; productId: string; warehouseId: string; lotId?: string; requested: number; available: number };

export type AdjustmentPlan = { ok: true; newLots: PlannedLot[]; lines: PlannedLine[] } | { ok: false; problems: AdjustmentProblem[] };

type WorkingLot = RemovableLot & { productId: string; warehouseId: string };

const pairKey = (productId: string, warehouseId: string) => JSON.stringify([productId, warehouseId]);

/**
 * Plans an adjustment against the locked lots of every product and warehouse it names. Lines run in
 * order and each sees what the earlier ones did (a shipment may take what a receipt above it brought).
 * Removal takes only available units (never reserved or allocated ones), from the named lot or oldest
 * first, or from the lots `fromLots` names; a positive ADJUSTMENT without a lot adds to the newest lot, or creates one when there is none.
 * Expired lots are physical stock here: they can be counted, written off and shipped.
 */
export function planAdjustments(lines: readonly AdjustmentLine[], lots: readonly ExistingLot[], now: Date): AdjustmentPlan {
  const existing = new Map(lots.map((lot) => [lot.id, lot]));
  const working = new Map<string, WorkingLot>();
  const lotsOfPair = new Map<string, string[]>();
  const addWorkingLot = (lot: WorkingLot) => {
    working.set(lot.key, lot);
    const key = pairKey(lot.productId, lot.warehouseId);
    lotsOfPair.set(key, [...(lotsOfPair.get(key) ?? []), lot.key]);
  };
  for (const lot of lots) addWorkingLot({ ...lot, key: lot.id });

  const newLots: PlannedLot[] = [];
  const planned: PlannedLine[] = [];
  const problems: AdjustmentProblem[] = [];

  const pairLots = (line: AdjustmentLine) => (lotsOfPair.get(pairKey(line.productId, line.warehouseId)) ?? []).map((key) => working.get(key)!);
  const onHand = (line: AdjustmentLine) => pairLots(line).reduce((sum, lot) => sum + lot.quantity, 0);
  const createLot = (line: AdjustmentLine): string => {
    const lot: PlannedLot = {
      key: `new:${newLots.length}`,
      productId: line.productId,
      warehouseId: line.warehouseId,
      lotNumber: line.newLot?.lotNumber ?? null,
      unitCost: line.newLot?.unitCost ?? null,
      expiresAt: line.newLot?.expiresAt ?? null,
      receivedAt: line.newLot?.receivedAt ?? now,
      binLocation: line.newLot?.binLocation ?? null,
    };
    newLots.push(lot);
    addWorkingLot({
      key: lot.key,
      productId: lot.productId,
      warehouseId: lot.warehouseId,
      receivedAt: lot.receivedAt,
      quantity: 0,
      reservedQuantity: 0,
      allocatedQuantity: 0,
    });
    return lot.key;
  };

  lines.forEach((line, index) => {
    if (line.lotId !== undefined) {
      const lot = existing.get(line.lotId);
      if (lot === undefined || lot.productId !== line.productId || lot.warehouseId !== line.warehouseId) {
        problems.push({ kind: 'unknown_lot', line: index, lotId: line.lotId, productId: line.productId, warehouseId: line.warehouseId });
        return;
      }
      if (line.version !== undefined && line.version !== lot.version) {
        problems.push({ kind: 'version_conflict', line: index, lotId: lot.id, expectedVersion: line.version, actualVersion: lot.version });
      }
    }

    const delta = line.type === 'SHIPMENT' || line.type === 'WRITE_OFF' ? -line.quantity : line.quantity;
    let changes: LotChange[];
    if (delta > 0) {
      const target = line.lotId ?? (line.type === 'ADJUSTMENT' ? newestLot(pairLots(line)) : undefined) ?? createLot(line);
      changes = [{ lotKey: target, quantityDelta: delta }];
    } else {
      const candidates = line.lotId === undefined ? pairLots(line) : [working.get(line.lotId)!];
      const removals = line.fromLots === undefined ? takeOldestFirst(candidates, -delta) : takeFromLots(candidates, line.fromLots);
      const taken = removals.reduce((sum, removal) => sum + removal.quantity, 0);
      if (taken < -delta) {
        problems.push({
          kind: 'insufficient_stock',
          line: index,
          productId: line.productId,
          warehouseId: line.warehouseId,
          ...(line.lotId === undefined ? {} : { lotId: line.lotId }),
          requested: -delta,
          available: taken,
        });
        return;
      }
      changes = removals.map((removal) => ({ lotKey: removal.lotKey, quantityDelta: -removal.quantity }));
    }

    const previousQuantity = onHand(line);
    for (const change of changes) working.get(change.lotKey)!.quantity += change.quantityDelta;
    planned.push({
      index,
      productId: line.productId,
      warehouseId: line.warehouseId,
      type: line.type,
      adjustedQuantity: delta,
      previousQuantity,
      newQuantity: previousQuantity + delta,
      changes,
    });
  });

  return problems.length > 0 ? { ok: false, problems } : { ok: true, newLots, lines: planned };
}

/** What each named lot can give of what is asked of it: at most its available units. */
function takeFromLots(lots: readonly WorkingLot[], wanted: readonly { lotId: string; quantity: number }[]): Removal[] {
  const byKey = new Map(lots.map((lot) => [lot.key, lot]));
  return wanted.flatMap(({ lotId, quantity }) => {
    const lot = byKey.get(lotId);
    const take = lot === undefined ? 0 : Math.min(quantity, available(lot));
    return take > 0 ? [{ lotKey: lotId, quantity: take }] : [];
  });
}

function newestLot(lots: readonly WorkingLot[]): string | undefined {
  return oldestFirst(lots).at(-1)?.key;
}
