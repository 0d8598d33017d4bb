import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSigner, createVerifier, TokenError } from 'fast-jwt';
import { z } from 'zod';
import { ConfigError, type Config } from '../config';
import { AppError } from '../errors';
import { userText } from '../schemas/common';
import { roles, type Role } from './roles';
import { developmentSecret } from './secrets';

export { roles, type Role };

/**
 * Who is calling: `sub` becomes the actor of every ledger row they cause; `tenant`, when the token
 * carries one, is the owner of what they create (else `sub` is; src/domain/ownership.ts).
 */
export type Caller = { sub: string; role: Role; tenant?: string };

// Role names are exact: "Admin" or "ADMIN" is no role at all.
const claimsSchema = z.object({ sub: userText(200), role: z.enum(roles), tenant: userText(200).optional() });

/** The settings tokens are checked against. */
export type TokenRules = Pick<Config, 'JWT_ISSUER' | 'JWT_AUDIENCE' | 'JWT_CLOCK_SKEW_SECONDS'>;

/** The key of one asymmetric algorithm Stockroom verifies: RS256 for RSA, EdDSA for Ed25519. */
export type PublicKey = { algorithm: 'RS256' | 'EdDSA'; kid: string | null; pem: string };

/** What tokens are verified with: the HS256 secret (if any) and the public keys of issuers elsewhere. */
export type TokenKeys = {
  secret: string | null;
  publicKeys: readonly PublicKey[];
  /** Set when the secret is the generated development one, read from (or just written to) this file. */
  development: { file: string; created: boolean } | null;
};

/**
 * The HS256 secret tokens are signed with here: JWT_SECRET; outside production, when neither it nor
 * a public key is configured, the generated development secret of JWT_DEV_SECRET_FILE; else none.
 */
export function signingSecret(config: Config): { secret: string; development: TokenKeys['development'] } | null {
  if (config.JWT_SECRET !== undefined) return { secret: config.JWT_SECRET, development: null };
  if (config.NODE_ENV === 'production' || config.JWT_PUBLIC_KEY_FILE !== undefined || config.JWT_JWKS_FILE !== undefined) return null;
  try {
    const { secret, created } = developmentSecret(config.JWT_DEV_SECRET_FILE);
    return { secret, development: { file: config.JWT_DEV_SECRET_FILE, created } };
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError([`JWT_SECRET: not set, and the development secret cannot be kept in ${config.JWT_DEV_SECRET_FILE} (${why}); set JWT_SECRET`]);
  }
}

function algorithmOf(key: KeyObject, variable: string): PublicKey['algorithm'] {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw new ConfigError([`${variable}: an RSA key of ${bits} bits is too short; use at least 2048`]);
    return 'RS256';
  }
  throw new ConfigError([`${variable}: holds a ${key.asymmetricKeyType ?? 'unknown'} key; Stockroom verifies RSA (RS256) or Ed25519 (EdDSA)`]);
}

function readKeyFile(file: string, variable: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`${variable}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
}

function pemKey(file: string): PublicKey {
  let key: KeyObject;
  try {
    key = createPublicKey(readKeyFile(file, 'JWT_PUBLIC_KEY_FILE'));
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError([`JWT_PUBLIC_KEY_FILE: ${file} holds no PEM public key`]);
  }
  return { algorithm: algorithmOf(key, 'JWT_PUBLIC_KEY_FILE'), kid: null, pem: key.export({ type: 'spki', format: 'pem' }).toString() };
}

type Jwk = JsonWebKey & { kid?: string; use?: string; alg?: string };

/** The signing keys of a JWKS file; keys for encryption, or of other types, are passed over. */
function jwksKeys(file: string): PublicKey[] {
  let document: { keys?: unknown };
  try {
    document = JSON.parse(readKeyFile(file, 'JWT_JWKS_FILE')) as { keys?: unknown };
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError([`JWT_JWKS_FILE: ${file} is not JSON`]);
  }
  if (!Array.isArray(document.keys)) throw new ConfigError([`JWT_JWKS_FILE: ${file} has no "keys" array`]);
  const keys: PublicKey[] = [];
  for (const jwk of document.keys as Jwk[]) {
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    if (jwk.kty !== 'RSA' && !(jwk.kty === 'OKP' && jwk.crv === 'Ed25519')) continue;
    let key: KeyObject;
    try {
      key = createPublicKey({ key: jwk, format: 'jwk' });
    } catch {
      throw new ConfigError([`JWT_JWKS_FILE: the key ${jwk.kid ?? '(without kid)'} of ${file} cannot be read`]);
    }
    const algorithm = algorithmOf(key, 'JWT_JWKS_FILE');
    if (jwk.alg !== undefined && jwk.alg !== algorithm) continue;
    keys.push({ algorithm, kid: jwk.kid ?? null, pem: key.export({ type: 'spki', format: 'pem' }).toString() });
  }
  if (keys.length === 0) throw new ConfigError([`JWT_JWKS_FILE: ${file} holds no RS256 or EdDSA signing key`]);
  return keys;
}

/** Reads every key tokens are verified with (files are read once, at start); a bad file throws a ConfigError naming its variable. */
export function loadTokenKeys(config: Config): TokenKeys {
  const publicKeys = [
    ...(config.JWT_PUBLIC_KEY_FILE === undefined ? [] : [pemKey(config.JWT_PUBLIC_KEY_FILE)]),
    ...(config.JWT_JWKS_FILE === undefined ? [] : jwksKeys(config.JWT_JWKS_FILE)),
  ];
  const signing = signingSecret(config);
  return { secret: signing?.secret ?? null, publicKeys, development: signing?.development ?? null };
}

/** Mints an HS256 token with `exp` (and the configured `iss`/`aud`); for local use, tests and the CLI. */
export function signToken(secret: string, caller: Caller, expiresInSeconds = 3600, rules: Partial<TokenRules> = {}): string {
  return createSigner({
    key: secret,
    algorithm: 'HS256',
    expiresIn: expiresInSeconds * 1000,
    ...(rules.JWT_ISSUER === undefined ? {} : { iss: rules.JWT_ISSUER }),
    ...(rules.JWT_AUDIENCE === undefined ? {} : { aud: rules.JWT_AUDIENCE }),
  })({ ...caller });
}

const refusals: Partial<Record<string, string>> = {
  [TokenError.codes.expired]: 'The token has expired',
  [TokenError.codes.inactive]: 'The token is not valid yet (nbf)',
  [TokenError.codes.missingRequiredClaim]: 'The token needs an `exp` claim (and `iss`/`aud` where they are configured)',
  [TokenError.codes.invalidClaimValue]: 'The token was issued by another issuer or for another audience',
};

/** The base64url JSON header of a token, or null when it has none. */
function headerOf(token: string): { alg?: unknown; kid?: unknown } | null {
  try {
    const header: unknown = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null ? header : null;
  } catch {
    return null;
  }
}

/** How many verified tokens a verifier remembers. */
export const verifiedTokenCacheSize = 1000;

/** A token that verified, with the instants (ms) between which it stays valid, skew included. */
type Verified = { caller: Caller; validFrom: number; validUntil: number };

/**
 * Builds the verifier of bearer tokens: HS256 with the secret, RS256 and EdDSA with the public keys
 * (the one its `kid` names, else the only one that fits); `exp` required, `iss`/`aud`
 * checked when configured, clocks may differ by JWT_CLOCK_SKEW_SECONDS. The token's `alg` only
 * picks among configured keys: a token cannot choose its own (no `none`, no HS256 over a public key).
 *
 * A caller sends the same token with every call, so the verifier remembers the last
 * verifiedTokenCacheSize tokens that verified, by their whole text, with the caller they name:
 * a repeat within the token's `nbf`..`exp` (skew included, as the check itself allows) is answered
 * without checking the signature and claims again, and one outside them is checked again (and
 * refused). Refusals are never remembered. The keys are read once per verifier, so a new secret or
 * key file takes effect with a new verifier (a restart), which remembers nothing.
 */
export function createTokenVerifier(keys: TokenKeys, rules: TokenRules): (token: string) => Caller {
  const clockTolerance = rules.JWT_CLOCK_SKEW_SECONDS * 1000;
  const checks = {
    requiredClaims: ['exp', ...(rules.JWT_ISSUER === undefined ? [] : ['iss']), ...(rules.JWT_AUDIENCE === undefined ? [] : ['aud'])],
    ...(rules.JWT_ISSUER === undefined ? {} : { allowedIss: rules.JWT_ISSUER }),
    ...(rules.JWT_AUDIENCE === undefined ? {} : { allowedAud: rules.JWT_AUDIENCE }),
    clockTolerance,
  };
  const verifySecret = keys.secret === null ? null : createVerifier({ key: keys.secret, algorithms: ['HS256'], ...checks });
  const verifyPublic = keys.publicKeys.map((key) => ({ ...key, verify: createVerifier({ key: key.pem, algorithms: [key.algorithm], ...checks }) }));

  const verifierFor = (token: string) => {
    const header = headerOf(token);
    if (header?.alg === 'HS256') return verifySecret;
    const candidates = verifyPublic.filter((key) => key.algorithm === header?.alg);
    const kid = typeof header?.kid === 'string' ? header.kid : null;
    // A key named by kid; else the one key without a kid (the PEM file), or the only key when the token names none.
    const named = candidates.filter((key) => kid !== null && key.kid === kid);
    const chosen = named.length > 0 ? named : candidates.filter((key) => kid === null || key.kid === null);
    return chosen.length === 1 ? chosen[0]!.verify : null;
  };

  /** Checks a token in full: its key, signature and claims; a refusal throws. */
  const check = (token: string): Verified => {
    const verify = verifierFor(token);
    if (!verify) throw new AppError('UNAUTHORIZED', 'The token is signed with an algorithm or key this service does not accept');
    let payload: { exp?: unknown; nbf?: unknown };
    try {
      payload = verify(token) as typeof payload;
    } catch (error) {
      const message = error instanceof TokenError ? refusals[error.code] : undefined;
      throw new AppError('UNAUTHORIZED', message ?? 'The token is malformed or wrongly signed');
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success)
      throw new AppError('UNAUTHORIZED', 'The token needs a `sub` (plain text), a `role` of service or admin, and a `tenant` of plain text if any');
    const { sub, role, tenant } = claims.data;
    return {
      caller: Object.freeze(tenant === undefined ? { sub, role } : { sub, role, tenant }),
      // the bounds fast-jwt checked `nbf` and `exp` against (`exp` is required, so it is a number here)
      validFrom: typeof payload.nbf === 'number' ? payload.nbf * 1000 - clockTolerance : -Infinity,
      validUntil: typeof payload.exp === 'number' ? payload.exp * 1000 + clockTolerance : -Infinity,
    };
  };

  const remembered = new Map<string, Verified>();
  return (token) => {
    const now = Date.now();
    const known = remembered.get(token);
    if (known !== undefined) {
      if (now >= known.validFrom && now <= known.validUntil) return known.caller;
      remembered.delete(token);
    }
    const verified = check(token);
    if (remembered.size >= verifiedTokenCacheSize) remembered.delete(remembered.keys().next().value!);
    remembered.set(token, verified);
    return verified.caller;
  };
}
