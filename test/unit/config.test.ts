import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '../../src/config';

describe('loadConfig', () => {
  it('works with no environment at all, against local services', () => {
    const config = loadConfig({});
    expect(config.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/stockroom');
    expect(config.AMQP_URL).toEqual(['amqp://guest:guest@127.0.0.1:5672']);
    expect(config.RESERVATION_TIMEOUT_MINUTES).toBe(30);
    expect(config.JOB_RETRY_DELAYS_MS).toEqual([1000, 5000, 25000]);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://localhost/x'],
    ['AMQP_URL', 'not a url'],
    ['AMQP_URL', 'amqp://a:5672,http://b'],
    ['AMQP_HEARTBEAT_SECONDS', '-1'],
    ['AMQP_CLUSTER', 'mirrored'],
    ['ALLOCATION_DELIVERY_LIMIT', '0'],
    ['WORKER_LOCK_TIMEOUT_MS', 'soon'],
    ['RESERVATION_TIMEOUT_MINUTES', '-5'],
    ['JOB_RETRY_DELAYS_MS', '100,abc'],
    ['LOG_LEVEL', 'loud'],
    ['MIGRATE_ON_START', 'maybe'],
  ])('refuses %s=%s and names the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^[\\s\\S]*${name}:`));
  });

  describe('the JWT secret in production', () => {
    const strong = randomBytes(32).toString('base64url');
    const refusal = (secret?: string) => {
      try {
        loadConfig({ NODE_ENV: 'production', ...(secret === undefined ? {} : { JWT_SECRET: secret }) });
      } catch (error) {
        if (error instanceof ConfigError) return error.message;
        throw error;
      }
      return null;
    };

    it('starts with 32 random bytes, in base64 or hex', () => {
      expect(refusal(strong)).toBeNull();
      expect(refusal(randomBytes(48).toString('base64'))).toBeNull();
      expect(refusal(randomBytes(32).toString('hex'))).toBeNull();
    });

    it.each([
      ['no secret at all', undefined, /JWT_SECRET: must be set in production/],
      ['the compose default', 'compose-local-secret-change-me', /JWT_SECRET: is a published default/],
      ['the old development secret', 'stockroom-local-development-secret', /JWT_SECRET: is a published default/],
      ['the test suite secret', 'stockroom-test-secret-0123456789', /JWT_SECRET: is a published default/],
      ['a placeholder in capitals', 'CHANGEME', /JWT_SECRET: is a published default/],
      ['16 of one letter', 'aaaaaaaaaaaaaaaa', /JWT_SECRET: is 16 bytes long; it needs at least 32/],
      ['64 of one letter', 'a'.repeat(64), /JWT_SECRET: repeats a short pattern/],
      ['a repeated word', 'abc123!?'.repeat(6), /JWT_SECRET: repeats a short pattern/],
      ['31 random bytes of text', strong.slice(0, 31), /JWT_SECRET: is 31 bytes long/],
      ['a long word of few letters', 'abababababababababbababababaababbababaabab', /JWT_SECRET: has too little variety/],
    ])('refuses %s and says why', (_what, secret, why) => {
      expect(refusal(secret)).toMatch(why);
    });

    it('needs no secret when tokens are only verified with public keys', () => {
      expect(() => loadConfig({ NODE_ENV: 'production', JWT_PUBLIC_KEY_FILE: '/etc/stockroom/issuer.pem' })).not.toThrow();
      expect(() => loadConfig({ NODE_ENV: 'production', JWT_JWKS_FILE: '/etc/stockroom/jwks.json' })).not.toThrow();
    });

    it('still checks a secret given next to public keys', () => {
      expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'short', JWT_JWKS_FILE: '/etc/stockroom/jwks.json' })).toThrow(/JWT_SECRET: is 5 bytes/);
    });

    it('accepts a weak secret outside production, where it is only warned about', () => {
      expect(loadConfig({ NODE_ENV: 'development', JWT_SECRET: 'dev' }).JWT_SECRET).toBe('dev');
      expect(loadConfig({}).JWT_SECRET).toBeUndefined();
    });
  });

  it('sets the HTTP timeouts and rate limits, and refuses combinations that cannot work', () => {
    const config = loadConfig({});
    expect([config.REQUEST_TIMEOUT_MS, config.HEADERS_TIMEOUT_MS, config.KEEP_ALIVE_TIMEOUT_MS, config.CONNECTION_TIMEOUT_MS]).toEqual([
      30_000, 10_000, 72_000, 120_000,
    ]);
    expect([config.RATE_LIMIT_MAX, config.RATE_LIMIT_ANONYMOUS_MAX, config.RATE_LIMIT_WINDOW_MS]).toEqual([100_000, 200, 10_000]);
    expect(() => loadConfig({ REQUEST_TIMEOUT_MS: '1000', HEADERS_TIMEOUT_MS: '2000' })).toThrow(/HEADERS_TIMEOUT_MS: must not exceed REQUEST_TIMEOUT_MS/);
    expect(() => loadConfig({ KEEP_ALIVE_TIMEOUT_MS: '10000', CONNECTION_TIMEOUT_MS: '5000' })).toThrow(
      /CONNECTION_TIMEOUT_MS: must be at least KEEP_ALIVE_TIMEOUT_MS/,
    );
    expect(() => loadConfig({ REQUEST_TIMEOUT_MS: '0' })).toThrow(/REQUEST_TIMEOUT_MS/);
  });

  it.each([
    ['false', false],
    ['true', true],
    ['2', 2],
    ['10.0.0.1, 10.1.0.0/16,::1', ['10.0.0.1', '10.1.0.0/16', '::1']],
  ])('reads TRUST_PROXY=%s', (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).TRUST_PROXY).toEqual(expected);
  });

  it('refuses a TRUST_PROXY that is not an address', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'loadbalancer' })).toThrow(/TRUST_PROXY/);
  });

  it('bounds the clock skew tokens are allowed', () => {
    expect(loadConfig({}).JWT_CLOCK_SKEW_SECONDS).toBe(30);
    expect(() => loadConfig({ JWT_CLOCK_SKEW_SECONDS: '3600' })).toThrow(/JWT_CLOCK_SKEW_SECONDS/);
  });

  it('refuses a default reservation timeout above the maximum', () => {
    expect(() => loadConfig({ RESERVATION_TIMEOUT_MINUTES: '90', RESERVATION_MAX_MINUTES: '60' })).toThrow(/RESERVATION_TIMEOUT_MINUTES/);
  });

  it('refuses a republish bound a job waiting for its last retry would outlast', () => {
    expect(() => loadConfig({ ALLOCATION_REPUBLISH_AFTER_MS: '20000' })).toThrow(/ALLOCATION_REPUBLISH_AFTER_MS/);
    expect(loadConfig({ ALLOCATION_REPUBLISH_AFTER_MS: '20000', JOB_RETRY_DELAYS_MS: '1000,5000' }).ALLOCATION_REPUBLISH_AFTER_MS).toBe(20_000);
  });

  it('takes several broker URLs, separated by commas, in order', () => {
    expect(loadConfig({ AMQP_URL: 'amqp://u:p@rabbit-1:5672, amqp://u:p@rabbit-2:5672,,amqp://u:p@rabbit-3:5672' }).AMQP_URL).toEqual([
      'amqp://u:p@rabbit-1:5672',
      'amqp://u:p@rabbit-2:5672',
      'amqp://u:p@rabbit-3:5672',
    ]);
  });

  it('declares classic queues unless told quorum, and gives quorum queues a delivery limit of 10 by default', () => {
    expect(loadConfig({})).toMatchObject({ AMQP_CLUSTER: 'classic', ALLOCATION_DELIVERY_LIMIT: 10 });
    expect(loadConfig({ AMQP_CLUSTER: 'quorum', ALLOCATION_DELIVERY_LIMIT: '3' })).toMatchObject({ AMQP_CLUSTER: 'quorum', ALLOCATION_DELIVERY_LIMIT: 3 });
  });

  it('binds each order event publisher to an owner, lists catalogue publishers, and believes none when unset', () => {
    const config = loadConfig({ ORDER_EVENT_PUBLISHERS: 'orders-eu:tenant-a, orders-us:tenant-b', CATALOG_EVENT_PUBLISHERS: 'catalog-svc,catalog-svc' });
    expect([...config.ORDER_EVENT_PUBLISHERS]).toEqual([
      ['orders-eu', 'tenant-a'],
      ['orders-us', 'tenant-b'],
    ]);
    expect(config.CATALOG_EVENT_PUBLISHERS).toEqual(['catalog-svc']);
    expect(loadConfig({}).ORDER_EVENT_PUBLISHERS.size).toBe(0);
    expect(loadConfig({}).CATALOG_EVENT_PUBLISHERS).toEqual([]);
    for (const bad of ['orders-eu', 'orders-eu:', ':tenant-a', 'orders-eu:tenant-a,orders-eu:tenant-b']) {
      expect(() => loadConfig({ ORDER_EVENT_PUBLISHERS: bad })).toThrow(/ORDER_EVENT_PUBLISHERS/);
    }
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '' }).PORT).toBe(3000);
  });
});
