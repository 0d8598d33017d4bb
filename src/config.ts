import { isIP } from 'node:net';
import { z } from 'zod';
import { secretWeaknesses } from './auth/secrets';

const integer = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(fallback);

const boolean = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1');

const millisecondList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const delays = value.split(',').map((part) => Number(part.trim()));
      if (delays.length === 0 || delays.some((delay) => !Number.isInteger(delay) || delay <= 0)) {
        ctx.addIssue({ code: 'custom', message: 'expected a comma-separated list of positive integers (milliseconds)' });
        return z.NEVER;
      }
      return delays;
    });

/** One broker URL, or several separated by commas: the nodes of a cluster, tried in turn. */
const amqpUrls = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const urls = value
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== '');
      const bad = urls.filter((url) => !z.url({ protocol: /^amqps?$/ }).safeParse(url).success);
      if (urls.length === 0 || bad.length > 0) {
        ctx.addIssue({ code: 'custom', message: 'expected one amqp:// or amqps:// URL, or several separated by commas' });
        return z.NEVER;
      }
      return urls;
    });

/** Which proxies to believe about the client's address: none, all, the nearest N hops, or these addresses and CIDR ranges. */
const trustProxy = z
  .string()
  .default('false')
  .transform((value, ctx): boolean | number | string[] => {
    if (value === 'true' || value === 'false') return value === 'true';
    if (/^\d+$/.test(value)) return Number(value);
    const addresses = value.split(',').map((part) => part.trim());
    if (addresses.some((address) => isIP(address.replace(/\/\d{1,3}$/, '')) === 0)) {
      ctx.addIssue({ code: 'custom', message: 'expected true, false, a number of hops, or comma-separated IP addresses and CIDR ranges' });
      return z.NEVER;
    }
    return addresses;
  });

/** `user:owner,…`: the RabbitMQ users allowed to publish an exchange's events, each with the owner its events act for. */
const publishersWithOwners = z
  .string()
  .default('')
  .transform((value, ctx): ReadonlyMap<string, string> => {
    const publishers = new Map<string, string>();
    for (const entry of value.split(',').map((part) => part.trim())) {
      if (entry === '') continue;
      const at = entry.indexOf(':');
      const [user, owner] = [entry.slice(0, at).trim(), entry.slice(at + 1).trim()];
      if (at <= 0 || owner === '' || publishers.has(user)) {
        ctx.addIssue({ code: 'custom', message: 'expected comma-separated user:owner pairs, each RabbitMQ user once (orders-svc:tenant-a,…)' });
        return z.NEVER;
      }
      publishers.set(user, owner);
    }
    return publishers;
  });

/** `user,…`: the RabbitMQ users allowed to publish an exchange's events. */
const publisherUsers = z
  .string()
  .default('')
  .transform((value) => [...new Set(value.split(',').map((part) => part.trim()))].filter((user) => user !== ''));

const amqpName = (fallback: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,200}$/)
    .default(fallback);

/**
 * Allocation jobs accepted but not finished past which POST /allocations answers 503 OVERLOADED: at
 * the 1,000–1,500 jobs/s one worker serves on the benchmark machine, about 1.5–2 s of queue.
 */
const BACKLOG_DEFAULT = 2000;

const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: integer(3000, 0, 65535),
  TRUST_PROXY: trustProxy,
  REQUEST_TIMEOUT_MS: integer(30_000, 1000, 600_000),
  HEADERS_TIMEOUT_MS: integer(10_000, 1000, 600_000),
  KEEP_ALIVE_TIMEOUT_MS: integer(72_000, 1000, 600_000),
  CONNECTION_TIMEOUT_MS: integer(120_000, 1000, 3_600_000),
  RATE_LIMIT_WINDOW_MS: integer(10_000, 1000, 3_600_000),
  RATE_LIMIT_MAX: integer(100_000, 0),
  RATE_LIMIT_ANONYMOUS_MAX: integer(200, 0),
  ADMIN_HOST: z.string().min(1).default('127.0.0.1'),
  ADMIN_PORT: integer(9464, 0, 65535),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default('postgres://postgres@127.0.0.1:5432/stockroom'),
  DATABASE_POOL_SIZE: integer(10, 1, 500),
  API_LOCK_TIMEOUT_MS: integer(2000),
  API_STATEMENT_TIMEOUT_MS: integer(10_000),
  API_IDLE_IN_TRANSACTION_TIMEOUT_MS: integer(10_000),
  WORKER_LOCK_TIMEOUT_MS: integer(2000),
  WORKER_STATEMENT_TIMEOUT_MS: integer(30_000),
  WORKER_IDLE_IN_TRANSACTION_TIMEOUT_MS: integer(5000),
  AMQP_URL: amqpUrls('amqp://guest:guest@127.0.0.1:5672'),
  AMQP_HEARTBEAT_SECONDS: integer(5, 0, 600),
  /** The kind of queues Stockroom declares: classic (one node) or quorum (replicated over a cluster's nodes; docs/scaling.md). */
  AMQP_CLUSTER: z.enum(['classic', 'quorum']).default('classic'),
  JWT_SECRET: z.string().optional(),
  JWT_DEV_SECRET_FILE: z.string().min(1).default('.stockroom/dev-jwt-secret'),
  JWT_PUBLIC_KEY_FILE: z.string().min(1).optional(),
  JWT_JWKS_FILE: z.string().min(1).optional(),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  JWT_CLOCK_SKEW_SECONDS: integer(30, 0, 300),
  MIGRATE_ON_START: boolean(true),
  BODY_LIMIT_BYTES: integer(1_048_576, 1024),
  RESERVATION_TIMEOUT_MINUTES: integer(30, 1),
  RESERVATION_MAX_MINUTES: integer(1440, 1),
  SYNC_BATCH_SIZE: integer(200, 1, 10_000),
  SYNC_BATCHES_IN_FLIGHT: integer(1, 1, 100),
  EXPIRY_SWEEP_INTERVAL_MS: integer(5000, 50),
  EXPIRY_SWEEP_BATCH_SIZE: integer(500, 1, 10_000),
  DAYS_OF_SUPPLY_WINDOW_DAYS: integer(30, 1, 365),
  ALLOCATION_QUEUE: amqpName('stockroom.allocations'),
  ALLOCATION_PARTITIONS: integer(1, 1, 256),
  /** Quorum queues only: deliveries of one message before the broker gives up on it (x-delivery-limit). */
  ALLOCATION_DELIVERY_LIMIT: integer(10, 1, 1000),
  WORKER_CONCURRENCY: integer(500, 1, 10_000),
  WORKER_BATCH_SIZE: integer(250, 1, 10_000),
  WORKER_BATCH_WAIT_MS: integer(5, 0, 10_000),
  JOB_MAX_ATTEMPTS: integer(3, 1, 100),
  JOB_RETRY_DELAYS_MS: millisecondList('1000,5000,25000'),
  PUBLISH_CONFIRM_TIMEOUT_MS: integer(5000, 100, 120_000),
  ALLOCATION_RELAY_INTERVAL_MS: integer(1000, 10),
  ALLOCATION_RELAY_AFTER_MS: integer(5000, 0),
  ALLOCATION_REPUBLISH_AFTER_MS: integer(120_000, 1000),
  ALLOCATION_MAX_BACKLOG: integer(BACKLOG_DEFAULT, 0),
  ALLOCATION_BACKLOG_SAMPLE_MS: integer(250, 10, 60_000),
  EVENTS_EXCHANGE: amqpName('inventory.events'),
  ORDERS_EXCHANGE: amqpName('orders.events'),
  CATALOG_EXCHANGE: amqpName('catalog.events'),
  CONSUMER_QUEUE_PREFIX: amqpName('stockroom'),
  ORDER_EVENT_PUBLISHERS: publishersWithOwners,
  CATALOG_EVENT_PUBLISHERS: publisherUsers,
  OUTBOX_POLL_INTERVAL_MS: integer(500, 10),
  OUTBOX_BATCH_SIZE: integer(500, 1, 10_000),
  OUTBOX_RETENTION_HOURS: integer(72, 1),
  IDEMPOTENCY_RETENTION_HOURS: integer(24, 1),
  IDEMPOTENCY_PRUNE_INTERVAL_MS: integer(600_000, 50),
  RECONNECT_MAX_DELAY_MS: integer(10_000, 100),
  SHUTDOWN_TIMEOUT_MS: integer(15_000, 100),
  LEDGER_CHECK_INTERVAL_MS: integer(300_000, 0),
  DEAD_LETTER_QUEUE_TTL_MS: integer(86_400_000, 1000),
  DEAD_LETTER_QUEUE_MAX_LENGTH: integer(10_000, 1),
  STREAM_INTERVAL_MS: integer(2000, 100, 60_000),
  STREAM_WINDOW_SECONDS: integer(10, 1, 3600),
  CONSISTENCY_CHECK_INTERVAL_MS: integer(3_600_000, 0),
  CONSISTENCY_OVERDUE_GRACE_MS: integer(300_000, 0),
  CONSISTENCY_STUCK_JOB_AFTER_MS: integer(900_000, 1000),
  CONSISTENCY_LONG_HOLD_HOURS: integer(24, 1),
});

export type Config = Readonly<z.infer<typeof environmentSchema>>;

/** Every variable Stockroom reads (README, Configuration). */
export const environmentVariables = Object.keys(environmentSchema.shape) as (keyof Config)[];

/** Thrown when the environment holds a value Stockroom cannot run with; names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment into a frozen config; empty values count as unset. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const config = parsed.data;
  const problems: string[] = [];
  if (config.NODE_ENV === 'production') {
    if (config.JWT_SECRET !== undefined) problems.push(...secretWeaknesses(config.JWT_SECRET).map((why) => `JWT_SECRET: ${why} (NODE_ENV=production)`));
    else if (config.JWT_PUBLIC_KEY_FILE === undefined && config.JWT_JWKS_FILE === undefined) {
      problems.push(
        'JWT_SECRET: must be set in production, to at least 32 random bytes (or set JWT_PUBLIC_KEY_FILE or JWT_JWKS_FILE to accept only tokens signed elsewhere)',
      );
    }
  }
  if (config.HEADERS_TIMEOUT_MS > config.REQUEST_TIMEOUT_MS) {
    problems.push('HEADERS_TIMEOUT_MS: must not exceed REQUEST_TIMEOUT_MS (the headers are part of the request)');
  }
  if (config.CONNECTION_TIMEOUT_MS < config.KEEP_ALIVE_TIMEOUT_MS) {
    problems.push('CONNECTION_TIMEOUT_MS: must be at least KEEP_ALIVE_TIMEOUT_MS, or idle keep-alive connections close early');
  }
  if (config.RESERVATION_TIMEOUT_MINUTES > config.RESERVATION_MAX_MINUTES) {
    problems.push('RESERVATION_TIMEOUT_MINUTES: must not exceed RESERVATION_MAX_MINUTES');
  }
  if (config.JOB_RETRY_DELAYS_MS.length < config.JOB_MAX_ATTEMPTS - 1) {
    problems.push('JOB_RETRY_DELAYS_MS: needs one delay for each retry (JOB_MAX_ATTEMPTS - 1 of them)');
  }
  if (config.ALLOCATION_REPUBLISH_AFTER_MS <= Math.max(...config.JOB_RETRY_DELAYS_MS)) {
    problems.push('ALLOCATION_REPUBLISH_AFTER_MS: must be longer than the longest of JOB_RETRY_DELAYS_MS (a job waiting for a retry is not stalled)');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    ...config,
    AMQP_URL: Object.freeze([...config.AMQP_URL]) as string[],
    TRUST_PROXY: Array.isArray(config.TRUST_PROXY) ? (Object.freeze([...config.TRUST_PROXY]) as string[]) : config.TRUST_PROXY,
    JOB_RETRY_DELAYS_MS: Object.freeze([...config.JOB_RETRY_DELAYS_MS]) as number[],
    CATALOG_EVENT_PUBLISHERS: Object.freeze([...config.CATALOG_EVENT_PUBLISHERS]) as string[],
  });
}

/** The process roles whose database sessions run with their own limits. */
export type DatabaseRole = 'api' | 'worker';

/** Server-side limits of a role's database sessions, in milliseconds (0 for none). */
export type SessionTimeouts = { lockTimeoutMs: number; statementTimeoutMs: number; idleInTransactionTimeoutMs: number };

/** The session limits configured for a role: how long a statement may wait for a lock, run, and a transaction sit idle. */
export function sessionTimeoutsFor(config: Config, role: DatabaseRole): SessionTimeouts {
  return role === 'api'
    ? {
        lockTimeoutMs: config.API_LOCK_TIMEOUT_MS,
        statementTimeoutMs: config.API_STATEMENT_TIMEOUT_MS,
        idleInTransactionTimeoutMs: config.API_IDLE_IN_TRANSACTION_TIMEOUT_MS,
      }
    : {
        lockTimeoutMs: config.WORKER_LOCK_TIMEOUT_MS,
        statementTimeoutMs: config.WORKER_STATEMENT_TIMEOUT_MS,
        idleInTransactionTimeoutMs: config.WORKER_IDLE_IN_TRANSACTION_TIMEOUT_MS,
      };
}
