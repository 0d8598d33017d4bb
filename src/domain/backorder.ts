/** Backorders: the units of one request line that were missing, waiting for stock. */
import type { Priority } from './priority';
import type { Strategy } from './strategies';

export type BackorderStatus = 'OPEN' | 'FULFILLED' | 'CANCELLED';

/** A backorder as kept. */
export type StoredBackorder = {
  id: string;
  /** whose backorder it is (src/domain/ownership.ts) */
  owner: string;
  productId: string;
  warehouseId: string | null;
  quantity: number;
  fulfilledQuantity: number;
  status: BackorderStatus;
  mode: 'reserve' | 'allocate';
  priority: Priority;
  strategy: Strategy;
  reservationId: string | null;
  allocationId: string | null;
  referenceType: string | null;
  referenceId: string | null;
  customerId: string | null;
  destinationLatitude: number | null;
  destinationLongitude: number | null;
  reservationMinutes: number;
  actor: string;
  createdAt: Date;
  updatedAt: Date;
};

/** A backorder to create. */
export type NewBackorder = Omit<StoredBackorder, 'fulfilledQuantity' | 'status' | 'updatedAt'>;

/** Units given to one backorder by one fill, and the reservation that now holds them. */
export type BackorderFill = { backorderId: string; productId: string; reservationId: string; quantity: number; fulfilled: boolean };
