import { PUBLISHER_HEADER, publisherHeaders, publisherOf } from '../../src/events/publishers';

describe('publisherOf', () => {
  it('names the user the broker vouches for, and none without a user_id', () => {
    expect(publisherOf({ userId: 'orders-svc', headers: {} }, 'stockroom')).toBe('orders-svc');
    expect(publisherOf({ userId: undefined, headers: {} }, 'stockroom')).toBeNull();
    expect(publisherOf({ userId: '', headers: {} }, 'stockroom')).toBeNull();
  });

  it("believes the header naming the first publisher only on Stockroom's own copies", () => {
    const named = { [PUBLISHER_HEADER]: 'orders-svc' };
    expect(publisherOf({ userId: 'stockroom', headers: named }, 'stockroom')).toBe('orders-svc');
    expect(publisherOf({ userId: 'stockroom', headers: { [PUBLISHER_HEADER]: Buffer.from('orders-svc') } }, 'stockroom')).toBe('orders-svc');
    // anyone else who sets the header is still only itself, and without a user_id nobody
    expect(publisherOf({ userId: 'intruder', headers: named }, 'stockroom')).toBe('intruder');
    expect(publisherOf({ userId: undefined, headers: named }, 'stockroom')).toBeNull();
    // Stockroom's own message without the header is Stockroom's
    expect(publisherOf({ userId: 'stockroom', headers: {} }, 'stockroom')).toBe('stockroom');
  });

  it('carries the publisher onto copies, and nothing when there is none', () => {
    expect(publisherHeaders('orders-svc')).toEqual({ [PUBLISHER_HEADER]: 'orders-svc' });
    expect(publisherHeaders(null)).toEqual({});
  });
});
