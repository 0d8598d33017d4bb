/** Allocation strategies: which lots serve a request and how much each gives (SPEC §4). Pure; the clock arrives as ctx.now. */
import { warehouseServes } from './catalogue';
import { isExpired } from './expiry';
import type { Priority } from './priority';

/** Every allocation strategy a request may name (SPEC §4). */
export const strategies = ['fifo', 'lifo', 'nearest_expiry', 'lowest_cost', 'nearest_location', 'load_balancing', 'priority_zone'] as const;
export type Strategy = (typeof strategies)[number];

/** A point on the globe in decimal degrees. */
export type GeoPoint = { latitude: number; longitude: number };

/** A lot as a strategy sees it: what it can still give, and the facts the strategies order by. */
export type CandidateLot = {
  /** uuid; the final tie-break of every order, compared as strings */
  id: string;
  productId: string;
  warehouseId: string;
  lotNumber: string | null;
  /** what this lot can still give */
  available: number;
  receivedAt: Date;
  expiresAt: Date | null;
  unitCost: number | null;
  warehouse: { latitude: number | null; longitude: number | null; premium: boolean; priority: number; active: boolean };
};

/** How a request chooses its lots: the strategy, with the destination nearest_location cannot do without. */
export type StrategyChoice =
  { strategy: Exclude<Strategy, 'nearest_location'>; destination?: GeoPoint } | { strategy: 'nearest_location'; destination: GeoPoint };

/** Why a strategy cannot be used as asked; the message every refusal of the rule below carries. */
export const missingDestination = 'nearest_location needs a destination';

/**
 * The strategies' one precondition: nearest_location orders lots by distance, so it needs a
 * destination. Returns the choice as the planner takes it, or null when the precondition fails.
 */
export function strategyChoice(strategy: Strategy, destination: GeoPoint | undefined): StrategyChoice | null {
  if (strategy === 'nearest_location') return destination === undefined ? null : { strategy, destination };
  return destination === undefined ? { strategy } : { strategy, destination };
}

/** What a strategy needs besides the lots. */
export type StrategyContext = StrategyChoice & { priority: Priority; now: Date };

/** One lot's share of a request. */
export type Take = { lotId: string; quantity: number };

const EARTH_RADIUS_KM = 6371.0088;

/** great-circle distance in km (haversine) */
export function distanceKm(a: GeoPoint, b: GeoPoint): number {
  const rad = (degrees: number) => (degrees * Math.PI) / 180;
  const h =
    Math.sin(rad(b.latitude - a.latitude) / 2) ** 2 + Math.cos(rad(a.latitude)) * Math.cos(rad(b.latitude)) * Math.sin(rad(b.longitude - a.longitude) / 2) ** 2;
  // rounding can push h a hair above 1 for antipodal points, where asin would give NaN
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

type Comparator = (a: CandidateLot, b: CandidateLot) => number;

// code-unit order, not localeCompare, so every machine breaks ties the same way
const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const byId: Comparator = (a, b) => compareStrings(a.id, b.id);
const byWarehouseId: Comparator = (a, b) => compareStrings(a.warehouseId, b.warehouseId);
const byReceivedAt: Comparator = (a, b) => a.receivedAt.getTime() - b.receivedAt.getTime();

function inOrder(...comparators: Comparator[]): Comparator {
  return (a, b) => {
    for (const compare of comparators) {
      const result = compare(a, b);
      if (result !== 0) return result;
    }
    return 0;
  };
}

function ascendingNullsLast(key: (lot: CandidateLot) => number | null): Comparator {
  return (a, b) => {
    const x = key(a);
    const y = key(b);
    if (x === null) return y === null ? 0 : 1;
    if (y === null) return -1;
    return x - y;
  };
}

const fifo = inOrder(byReceivedAt, byId);

function warehouseTotals(lots: readonly CandidateLot[]): Map<string, number> {
  const totals = new Map<string, number>();
  for (const lot of lots) totals.set(lot.warehouseId, (totals.get(lot.warehouseId) ?? 0) + lot.available);
  return totals;
}

function warehouseDistance(lot: CandidateLot, destination: GeoPoint): number | null {
  const { latitude, longitude } = lot.warehouse;
  return latitude === null || longitude === null ? null : distanceKm(destination, { latitude, longitude });
}

function comparatorFor(lots: readonly CandidateLot[], ctx: StrategyContext): Comparator {
  switch (ctx.strategy) {
    case 'fifo':
      return fifo;
    case 'lifo':
      return inOrder((a, b) => byReceivedAt(b, a), byId);
    case 'nearest_expiry':
      return inOrder(
        ascendingNullsLast((lot) => lot.expiresAt?.getTime() ?? null),
        fifo,
      );
    case 'lowest_cost':
      return inOrder(
        ascendingNullsLast((lot) => lot.unitCost),
        fifo,
      );
    case 'nearest_location': {
      const destination = ctx.destination;
      const distance = new Map(lots.map((lot) => [lot.id, warehouseDistance(lot, destination)]));
      return inOrder(
        ascendingNullsLast((lot) => distance.get(lot.id) ?? null),
        fifo,
      );
    }
    case 'load_balancing': {
      const totals = warehouseTotals(lots);
      return inOrder((a, b) => (totals.get(b.warehouseId) ?? 0) - (totals.get(a.warehouseId) ?? 0), byWarehouseId, fifo);
    }
    case 'priority_zone': {
      const premiumFirst = ctx.priority === 'high' || ctx.priority === 'critical';
      const group = (lot: CandidateLot) => (lot.warehouse.premium === premiumFirst ? 0 : 1);
      return inOrder(
        (a, b) => group(a) - group(b),
        (a, b) => b.warehouse.priority - a.warehouse.priority,
        fifo,
      );
    }
  }
}

/** A lot serves when it has stock, has not expired and its warehouse serves (is active). */
function canServe(lot: CandidateLot, now: Date): boolean {
  if (!Number.isSafeInteger(lot.available)) throw new Error(`lot ${lot.id} has a non-integer available quantity ${lot.available}`);
  return lot.available > 0 && !isExpired(lot, now) && warehouseServes(lot.warehouse);
}

/**
 * The lots allowed to serve (available > 0, not expired at ctx.now, in an active warehouse — expired lots and deactivated
 * warehouses NEVER serve under any strategy) in the order the strategy takes them.
 */
export function orderLots(lots: readonly CandidateLot[], ctx: StrategyContext): CandidateLot[] {
  const serving = lots.filter((lot) => canServe(lot, ctx.now));
  return serving.sort(comparatorFor(serving, ctx));
}

/**
 * Splits `quantity` across warehouses in proportion to their stock, rounding by largest remainder (ties by warehouse id).
 * Integer arithmetic keeps equal remainders equal. Asking for no more than the total means an exact share never exceeds
 * a warehouse's stock, so rounding one up stays within it too, and every unit left by rounding down finds a home.
 */
function warehouseShares(lots: readonly CandidateLot[], quantity: number): Map<string, number> {
  const totals = warehouseTotals(lots);
  const total = [...totals.values()].reduce((sum, stock) => sum + stock, 0);
  const wanted = Math.min(quantity, total);
  if (wanted === 0) return new Map();
  const rows = [...totals].map(([warehouseId, stock]) => {
    const scaled = wanted * stock;
    const remainder = scaled % total;
    return { warehouseId, share: (scaled - remainder) / total, remainder };
  });
  let unplaced = wanted - rows.reduce((sum, row) => sum + row.share, 0);
  rows.sort((a, b) => b.remainder - a.remainder || compareStrings(a.warehouseId, b.warehouseId));
  for (const row of rows) {
    if (unplaced === 0) break;
    row.share += 1;
    unplaced -= 1;
  }
  return new Map(rows.map((row) => [row.warehouseId, row.share]));
}

/** How much to take from which lot for `quantity` units (takes at most what exists; may return less). */
export function chooseTakes(lots: readonly CandidateLot[], quantity: number, ctx: StrategyContext): Take[] {
  if (!Number.isSafeInteger(quantity) || quantity < 0) throw new Error(`quantity must be a whole number of units, got ${quantity}`);
  const ordered = orderLots(lots, ctx);
  // load balancing caps each warehouse at its share; the other strategies are greedy over the order
  const shares = ctx.strategy === 'load_balancing' ? warehouseShares(ordered, quantity) : null;
  const takes: Take[] = [];
  let wanted = quantity;
  for (const lot of ordered) {
    if (wanted === 0) break;
    const room = shares === null ? wanted : (shares.get(lot.warehouseId) ?? 0);
    const take = Math.min(lot.available, room, wanted);
    if (take === 0) continue;
    takes.push({ lotId: lot.id, quantity: take });
    wanted -= take;
    shares?.set(lot.warehouseId, room - take);
  }
  return takes;
}
