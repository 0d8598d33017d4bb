/** Shared pieces of the settle tests: a predictable id source and a backorder as kept. */
import type { StoredBackorder } from '../../src/domain/backorder';
import type { IdSource } from '../../src/domain/settle';
import { now } from './lot-fixtures';

/** Ids id-0001, id-0002, …: unique, and later ones sort after earlier ones, as uuid v7 do. */
export function sequentialIds(): IdSource {
  let next = 0;
  return () => `id-${String(++next).padStart(4, '0')}`;
}

/** An OPEN backorder of `quantity` units of sku-1 for order-1, nothing fulfilled yet, unless overridden. */
export function backorder(overrides: Partial<StoredBackorder> = {}): StoredBackorder {
  return {
    id: 'bo-1',
    owner: 'tenant-1',
    productId: 'sku-1',
    warehouseId: null,
    quantity: 5,
    fulfilledQuantity: 0,
    status: 'OPEN',
    mode: 'reserve',
    priority: 'medium',
    strategy: 'fifo',
    reservationId: null,
    allocationId: null,
    referenceType: 'order',
    referenceId: 'order-1',
    customerId: null,
    destinationLatitude: null,
    destinationLongitude: null,
    reservationMinutes: 30,
    actor: 'checkout',
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}
