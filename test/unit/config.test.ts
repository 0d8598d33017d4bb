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
    ['WORKER_LOCK_TIMEOUT_MS', 'soon'],
    ['RESERVATION_TIMEOUT_MINUTES', '-5'],
    ['JOB_RETRY_DELAYS_MS', '100,abc'],
    ['LOG_LEVEL', 'loud'],
    ['MIGRATE_ON_START', 'maybe'],
  ])('refuses %s=%s and names the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^[\\s\\S]*${name}:`));
  });

  it('refuses the development JWT secret in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET/);
  });

  it('refuses a default reservation timeout above the maximum', () => {
    expect(() => loadConfig({ RESERVATION_TIMEOUT_MINUTES: '90', RESERVATION_MAX_MINUTES: '60' })).toThrow(/RESERVATION_TIMEOUT_MINUTES/);
  });

  it('takes several broker URLs, separated by commas, in order', () => {
    expect(loadConfig({ AMQP_URL: 'amqp://u:p@rabbit-1:5672, amqp://u:p@rabbit-2:5672,,amqp://u:p@rabbit-3:5672' }).AMQP_URL).toEqual([
      'amqp://u:p@rabbit-1:5672',
      'amqp://u:p@rabbit-2:5672',
      'amqp://u:p@rabbit-3:5672',
    ]);
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '' }).PORT).toBe(3000);
  });
});
