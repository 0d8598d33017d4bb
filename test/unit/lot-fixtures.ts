/** Builders for candidate lots in unit tests: days count from a fixed epoch so dates read as small numbers. */
import type { CandidateLot } from '../../src/domain/strategies';

export type TestWarehouse = { id: string } & CandidateLot['warehouse'];

export const berlin: TestWarehouse = { id: 'wh-berlin', latitude: 52.52, longitude: 13.405, premium: false, priority: 1, active: true };
export const paris: TestWarehouse = { id: 'wh-paris', latitude: 48.8566, longitude: 2.3522, premium: true, priority: 5, active: true };
export const madrid: TestWarehouse = { id: 'wh-madrid', latitude: 40.4168, longitude: -3.7038, premium: false, priority: 3, active: true };
export const unmapped: TestWarehouse = { id: 'wh-unmapped', latitude: null, longitude: null, premium: true, priority: 9, active: true };

const epoch = Date.UTC(2025, 0, 1);

/** The date `n` days after the fixed epoch. */
export const day = (n: number): Date => new Date(epoch + n * 86_400_000);

/** The clock every test plans at. */
export const now = day(100);

/** A uuid whose order follows `n`, so tie-break expectations are easy to read. */
export const lotId = (n: number): string => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;

export type LotSpec = {
  n: number;
  warehouse?: TestWarehouse;
  productId?: string;
  available?: number;
  received?: number;
  expires?: number | null;
  unitCost?: number | null;
};

/** A candidate lot of product `sku-1` in Berlin, 10 available, received on day 1, unless the spec says otherwise. */
export function lot(spec: LotSpec): CandidateLot {
  const { id: warehouseId, ...warehouse } = spec.warehouse ?? berlin;
  return {
    id: lotId(spec.n),
    productId: spec.productId ?? 'sku-1',
    warehouseId,
    lotNumber: `LOT-${spec.n}`,
    available: spec.available ?? 10,
    receivedAt: day(spec.received ?? 1),
    expiresAt: spec.expires === undefined || spec.expires === null ? null : day(spec.expires),
    unitCost: spec.unitCost ?? null,
    warehouse,
  };
}
