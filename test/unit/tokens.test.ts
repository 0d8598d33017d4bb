import { createTokenVerifier, signToken, verifiedTokenCacheSize, type TokenKeys, type TokenRules } from '../../src/auth/tokens';
import { craftToken, epochSeconds, testJwtSecret } from '../helpers/tokens';

const rules: TokenRules = { JWT_ISSUER: undefined, JWT_AUDIENCE: undefined, JWT_CLOCK_SKEW_SECONDS: 30 };
const keysWith = (secret: string): TokenKeys => ({ secret, publicKeys: [], development: null });
const hs256 = { hmac: 'sha256', secret: testJwtSecret } as const;
const start = new Date('2026-12-01T12:00:00Z');

describe('the token verifier remembers tokens that verified', () => {
  beforeEach(() => jest.useFakeTimers({ now: start }));
  afterEach(() => jest.useRealTimers());

  it('refuses an expired token it verified before, once the clock skew is past too', () => {
    const verify = createTokenVerifier(keysWith(testJwtSecret), rules);
    const token = craftToken({ alg: 'HS256' }, { sub: 'svc', role: 'service', exp: epochSeconds(60) }, hs256);
    expect(verify(token)).toEqual({ sub: 'svc', role: 'service' });
    jest.advanceTimersByTime(60_000 + 29_000);
    expect(verify(token)).toEqual({ sub: 'svc', role: 'service' });
    jest.advanceTimersByTime(2_000);
    expect(() => verify(token)).toThrow('The token has expired');
    expect(() => verify(token)).toThrow('The token has expired');
  });

  it('remembers no refusal: a token not valid yet is taken once its nbf comes', () => {
    const verify = createTokenVerifier(keysWith(testJwtSecret), rules);
    const token = craftToken({ alg: 'HS256' }, { sub: 'svc', role: 'admin', nbf: epochSeconds(120), exp: epochSeconds(3600) }, hs256);
    expect(() => verify(token)).toThrow('The token is not valid yet (nbf)');
    jest.advanceTimersByTime(120_000 - 30_000);
    expect(verify(token)).toEqual({ sub: 'svc', role: 'admin' });
  });

  it('checks a token differing from a remembered one only in its signature or claims in full, and refuses it', () => {
    const verify = createTokenVerifier(keysWith(testJwtSecret), rules);
    const claims = { sub: 'svc', role: 'service', tenant: 'acme', exp: epochSeconds(3600) };
    const token = craftToken({ alg: 'HS256' }, claims, hs256);
    expect(verify(token)).toEqual({ sub: 'svc', role: 'service', tenant: 'acme' });
    const [header, payload] = token.split('.');
    const forgedSignature = craftToken({ alg: 'HS256' }, claims, { hmac: 'sha256', secret: 'another-secret-0123456789abcdef' }).split('.')[2];
    expect(() => verify(`${header}.${payload}.${forgedSignature}`)).toThrow('The token is malformed or wrongly signed');
    const otherTenant = craftToken({ alg: 'HS256' }, { ...claims, tenant: 'globex' }, hs256).split('.')[1];
    expect(() => verify(`${header}.${otherTenant}.${token.split('.')[2]}`)).toThrow('The token is malformed or wrongly signed');
    expect(verify(token)).toEqual({ sub: 'svc', role: 'service', tenant: 'acme' });
  });

  it('takes a new secret at once: a verifier with the new one refuses tokens the old one remembered', () => {
    const before = createTokenVerifier(keysWith(testJwtSecret), rules);
    const token = signToken(testJwtSecret, { sub: 'svc', role: 'service' });
    expect(before(token)).toEqual({ sub: 'svc', role: 'service' });
    const rotated = createTokenVerifier(keysWith('rotated-secret-0123456789abcdefgh'), rules);
    expect(() => rotated(token)).toThrow('The token is malformed or wrongly signed');
    expect(rotated(signToken('rotated-secret-0123456789abcdefgh', { sub: 'svc', role: 'service' }))).toEqual({ sub: 'svc', role: 'service' });
  });

  it('keeps checking expiry of tokens it has forgotten for newer ones', () => {
    const verify = createTokenVerifier(keysWith(testJwtSecret), rules);
    const first = craftToken({ alg: 'HS256' }, { sub: 'first', role: 'service', exp: epochSeconds(60) }, hs256);
    verify(first);
    for (let index = 0; index < verifiedTokenCacheSize; index++) verify(signToken(testJwtSecret, { sub: `caller-${index}`, role: 'service' }));
    expect(verify(first)).toEqual({ sub: 'first', role: 'service' });
    jest.advanceTimersByTime(91_000);
    expect(() => verify(first)).toThrow('The token has expired');
  });

  it('answers a remembered caller that cannot be changed by the request that got it', () => {
    const verify = createTokenVerifier(keysWith(testJwtSecret), rules);
    const token = signToken(testJwtSecret, { sub: 'svc', role: 'service' });
    const caller = verify(token);
    expect(() => Object.assign(caller, { role: 'admin' })).toThrow(TypeError);
    expect(verify(token)).toEqual({ sub: 'svc', role: 'service' });
  });
});
