import { createHmac, sign, type KeyObject } from 'node:crypto';
import { signToken, type Role } from '../../src/auth/tokens';

/** The secret test apps are built with. */
export const testJwtSecret = 'stockroom-test-secret-0123456789';

/** A bearer header for a caller of the given role. */
export function bearer(role: Role, sub = `test-${role}`, secret = testJwtSecret, expiresInSeconds = 3600): { authorization: string } {
  return { authorization: `Bearer ${signToken(secret, { sub, role }, expiresInSeconds)}` };
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** How a crafted token is signed: an HMAC over its input, a private key, or not at all. */
export type Signing = { hmac: 'sha256' | 'sha384' | 'sha512'; secret: string } | { key: KeyObject } | 'unsigned';

/**
 * A JWT built by hand, header and claims exactly as given, for tokens the service must refuse
 * (alg none, another algorithm, a forged header) as well as ones it must take.
 */
export function craftToken(header: Record<string, unknown>, claims: Record<string, unknown>, signing: Signing): string {
  const input = `${base64url({ typ: 'JWT', ...header })}.${base64url(claims)}`;
  if (signing === 'unsigned') return `${input}.`;
  const signature =
    'hmac' in signing
      ? createHmac(signing.hmac, signing.secret).update(input).digest()
      : // RSA keys sign with SHA-256 (RS256); Ed25519 keys take no digest (EdDSA).
        sign(signing.key.asymmetricKeyType === 'rsa' ? 'sha256' : null, Buffer.from(input), signing.key);
  return `${input}.${signature.toString('base64url')}`;
}

/** Seconds since the epoch, `offset` seconds from now. */
export const epochSeconds = (offset = 0) => Math.floor(Date.now() / 1000) + offset;
