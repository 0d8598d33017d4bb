import { createSigner, createVerifier, TokenError } from 'fast-jwt';
import { z } from 'zod';
import { AppError } from '../errors';
import { userText } from '../schemas/common';

export const roles = ['service', 'admin'] as const;
export type Role = (typeof roles)[number];

/** Who is calling: `sub` becomes the actor of every ledger row they cause. */
export type Caller = { sub: string; role: Role };

const claimsSchema = z.object({ sub: userText(200), role: z.enum(roles) });

/** Mints an HS256 token; for local use, tests and the CLI. */
export function signToken(secret: string, caller: Caller, expiresInSeconds = 3600): string {
  return createSigner({ key: secret, algorithm: 'HS256', expiresIn: expiresInSeconds * 1000 })({ ...caller });
}

/** Builds a verifier that accepts only HS256 tokens signed with `secret`, unexpired, with a known role. */
export function createTokenVerifier(secret: string): (token: string) => Caller {
  const verify = createVerifier({ key: secret, algorithms: ['HS256'], cache: 1000 });
  return (token) => {
    let payload: unknown;
    try {
      payload = verify(token);
    } catch (error) {
      const expired = error instanceof TokenError && error.code === TokenError.codes.expired;
      throw new AppError('UNAUTHORIZED', expired ? 'The token has expired' : 'The token is malformed or wrongly signed');
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new AppError('UNAUTHORIZED', 'The token needs a `sub` and a `role` of service or admin');
    return claims.data;
  };
}
