import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config';
import { AppError } from '../errors';

/** Counts a request, answering 429 RATE_LIMITED once its key is over the limit; `sub` is the verified caller, null for none. */
export type RateLimitCheck = (request: FastifyRequest, reply: FastifyReply, sub: string | null) => Promise<void>;

/**
 * Per-caller rate limits with @fastify/rate-limit, in fixed windows of RATE_LIMIT_WINDOW_MS counted
 * by this process: a caller whose token verified counts by its `sub` against RATE_LIMIT_MAX,
 * anything else (no token, a refused one) by its client address against RATE_LIMIT_ANONYMOUS_MAX.
 * A limit of 0 is off. Every counted answer says where the caller stands (x-ratelimit-* headers).
 */
export async function registerRateLimit(app: FastifyInstance, config: Config): Promise<RateLimitCheck> {
  await app.register(rateLimit, { global: false });
  const callerKeys = new WeakMap<FastifyRequest, string>();
  const maxFor = (key: string) => (key.startsWith('caller:') ? config.RATE_LIMIT_MAX : config.RATE_LIMIT_ANONYMOUS_MAX);
  const count = app.createRateLimit({
    timeWindow: config.RATE_LIMIT_WINDOW_MS,
    keyGenerator: (request) => callerKeys.get(request) ?? `address:${normalizeIP(request.ip)}`,
    max: (_request, key) => maxFor(key),
    allowList: (_request, key) => maxFor(key) === 0,
  });
  return async (request, reply, sub) => {
    if (sub !== null) callerKeys.set(request, `caller:${sub}`);
    const verdict = await count(request);
    if (verdict.isAllowed) return;
    reply.headers({ 'x-ratelimit-limit': verdict.max, 'x-ratelimit-remaining': verdict.remaining, 'x-ratelimit-reset': verdict.ttlInSeconds });
    if (!verdict.isExceeded) return;
    reply.header('retry-after', verdict.ttlInSeconds);
    throw new AppError('RATE_LIMITED', `Too many requests; try again in ${verdict.ttlInSeconds} s`, {
      retryAfterSeconds: verdict.ttlInSeconds,
      limit: verdict.max,
      windowSeconds: Math.round(verdict.timeWindow / 1000),
    });
  };
}
