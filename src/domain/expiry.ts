/**
 * Lot expiry (SPEC §4: expired lots never serve; they stay on hand until written off). Pure.
 * SQL mirror: lotExpiredSql in src/db/lot-store.ts.
 */

/** Whether a lot has expired at `now`: expiry at exactly `now` counts as expired; a lot without one never expires. */
export function isExpired(lot: { expiresAt: Date | null }, now: Date): boolean {
  return lot.expiresAt !== null && lot.expiresAt.getTime() <= now.getTime();
}
