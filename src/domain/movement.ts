/** The movement ledger's vocabulary: every change of a lot's quantities is one movement of one of these kinds. */
import { available } from './quantities';

/** The kinds of movement the ledger records. */
export const movementTypes = [
  'RECEIPT',
  'SHIPMENT',
  'ADJUSTMENT',
  'RETURN',
  'WRITE_OFF',
  'RESERVE',
  'RELEASE',
  'EXPIRE',
  'ALLOCATE',
  'SHIP',
  'TRANSFER_OUT',
  'TRANSFER_IN',
  // units of a transfer found missing on arrival, written off at the destination lot they arrived in
  'TRANSFER_SHORTAGE',
  // units of a cancelled transfer back in the source lot they left
  'TRANSFER_RETURN',
] as const;
export type MovementType = (typeof movementTypes)[number];

/** Units that came into a warehouse. */
export const inboundMovementTypes: readonly MovementType[] = ['RECEIPT', 'RETURN', 'TRANSFER_IN', 'TRANSFER_RETURN'];

/** Units that left a warehouse: shipped to customers or sent to another warehouse (the rate days of supply are counted from). */
export const outboundMovementTypes: readonly MovementType[] = ['SHIPMENT', 'SHIP', 'TRANSFER_OUT'];

/** Corrections of what is on hand. */
export const correctionMovementTypes: readonly MovementType[] = ['ADJUSTMENT', 'WRITE_OFF', 'TRANSFER_SHORTAGE'];

/** One change of one lot's quantities; becomes one ledger row. */
export type LotMovement = {
  lotId: string;
  type: MovementType;
  quantityDelta?: number;
  reservedDelta?: number;
  allocatedDelta?: number;
  reason?: string | null;
  referenceType?: string | null;
  referenceId?: string | null;
  actor: string;
};

/** How much a movement changes a lot's available quantity: available() is linear, so it is available() of the deltas. */
export function availableDelta(movement: Pick<LotMovement, 'quantityDelta' | 'reservedDelta' | 'allocatedDelta'>): number {
  return available({ quantity: movement.quantityDelta ?? 0, reservedQuantity: movement.reservedDelta ?? 0, allocatedQuantity: movement.allocatedDelta ?? 0 });
}
