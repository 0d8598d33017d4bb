/** The three quantities a lot carries; the database column names are their snake_case forms. */
export type LotQuantities = { quantity: number; reservedQuantity: number; allocatedQuantity: number };

const fields = ['quantity', 'reservedQuantity', 'allocatedQuantity'] as const;

/** What a lot can still give: quantity - reserved - allocated (SPEC §2). SQL mirror: lotAvailableSql in src/db/lot-store.ts. */
export function available(lot: LotQuantities): number {
  return lot.quantity - lot.reservedQuantity - lot.allocatedQuantity;
}

/** Names every broken invariant (negative reserved/allocated/quantity, reserved+allocated > quantity, non-integers); empty when sound. */
export function lotInvariantViolations(lot: LotQuantities): string[] {
  const violations: string[] = [];
  for (const field of fields) {
    const value = lot[field];
    if (!Number.isSafeInteger(value)) violations.push(`${field} must be a whole number, got ${value}`);
    if (value < 0) violations.push(`${field} must not be negative, got ${value}`);
  }
  const held = lot.reservedQuantity + lot.allocatedQuantity;
  if (held > lot.quantity) {
    violations.push(`reservedQuantity + allocatedQuantity (${held}) exceeds quantity (${lot.quantity})`);
  }
  return violations;
}
