import { signToken, type Role } from '../../src/auth/tokens';

/** The secret test apps are built with. */
export const testJwtSecret = 'stockroom-test-secret-0123456789';

/** A bearer header for a caller of the given role. */
export function bearer(role: Role, sub = `test-${role}`, secret = testJwtSecret, expiresInSeconds = 3600): { authorization: string } {
  return { authorization: `Bearer ${signToken(secret, { sub, role }, expiresInSeconds)}` };
}
