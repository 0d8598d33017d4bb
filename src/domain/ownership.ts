/**
 * Who may see what. Every reservation, backorder and allocation job belongs to one owner: the
 * token's `tenant` claim when it has one, else its `sub`. A service caller sees and changes only
 * its own owner's objects (another owner's read as not found, so ids cannot be probed); an admin
 * sees every owner's. Order ids, and Idempotency-Keys, are scoped by owner.
 */

/** The claims of a caller that ownership reads. */
export type Principal = { sub: string; role: 'service' | 'admin'; tenant?: string | undefined };

/** What a caller acts as: the owner of what it creates, and whose objects it sees (null: every owner's). */
export type OwnerScope = { owner: string; sees: string | null };

/** The owner of what a caller creates: its `tenant` claim when present, else its `sub`. */
export function ownerOf(principal: Pick<Principal, 'sub' | 'tenant'>): string {
  return principal.tenant ?? principal.sub;
}

/** A caller's scope: admins see every owner's objects, service callers only their own owner's. */
export function scopeOf(principal: Principal): OwnerScope {
  const owner = ownerOf(principal);
  return { owner, sees: principal.role === 'admin' ? null : owner };
}

/** The scope of a party acting for exactly one owner (an order service's events): it sees that owner's objects only. */
export function actingFor(owner: string): OwnerScope {
  return { owner, sees: owner };
}

/** True when the scope may see and change an object of `owner`. */
export function canSee(scope: OwnerScope, owner: string): boolean {
  return scope.sees === null || scope.sees === owner;
}

/**
 * The owner a list call is narrowed to: undefined for every owner (an admin naming none), the one
 * owner otherwise; null when nothing can match (a service caller naming another owner).
 */
export function listOwner(scope: OwnerScope, requested: string | undefined): string | undefined | null {
  if (scope.sees === null) return requested;
  return requested === undefined || requested === scope.sees ? scope.sees : null;
}
