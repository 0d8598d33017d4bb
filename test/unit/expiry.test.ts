import { isExpired } from '../../src/domain/expiry';

const now = new Date('2030-01-01T12:00:00.000Z');

describe('isExpired', () => {
  it('counts a lot expiring exactly at now as expired, and one a millisecond later as not', () => {
    expect(isExpired({ expiresAt: new Date(now.getTime() - 1) }, now)).toBe(true);
    expect(isExpired({ expiresAt: now }, now)).toBe(true);
    expect(isExpired({ expiresAt: new Date(now.getTime() + 1) }, now)).toBe(false);
  });

  it('never expires a lot without an expiry date', () => {
    expect(isExpired({ expiresAt: null }, now)).toBe(false);
  });
});
