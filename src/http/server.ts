import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { secretWeaknesses } from '../auth/secrets';
import { createTokenVerifier, type Caller, type Role } from '../auth/tokens';
import type { Config } from '../config';
import { AppError } from '../errors';
import { httpDuration, httpRequests } from '../metrics';
import { healthDetailsProbe } from '../operations/health-details';
import { readinessProbe } from '../operations/readiness';
import { packageVersion } from '../package';
import type { Access, AppDeps, RouteModule } from './app-deps';
import { cameInOnAdminPort } from './admin-port';
import { registerConsole } from './console';
import { answerClientError, answerError, answerNotFound } from './error-mapping';
import { createHttpServer } from './http-server';
import { registerDocs } from './openapi';
import { registerRateLimit } from './rate-limit';
import { requestIdOf } from './request-id';
import { allocationRoutes } from './routes/allocations';
import { backorderRoutes } from './routes/backorders';
import { catalogueRoutes } from './routes/catalogue';
import { healthRoutes } from './routes/health';
import { inventoryRoutes } from './routes/inventory';
import { metricsRoutes } from './routes/metrics';
import { reservationRoutes } from './routes/reservations';
import { streamRoutes } from './routes/stream';
import { transferRoutes } from './routes/transfers';
import { unitRoutes } from './routes/units';
import { securityHeaders } from './security-headers';

/** Every resource under /api/v1, one file each. */
const apiRoutes: RouteModule[] = [
  catalogueRoutes,
  inventoryRoutes,
  transferRoutes,
  reservationRoutes,
  unitRoutes,
  backorderRoutes,
  allocationRoutes,
  streamRoutes,
];

const roleGrants: Record<Access, readonly Role[]> = {
  public: ['service', 'admin'],
  service: ['service', 'admin'],
  admin: ['admin'],
};

/** TRUST_PROXY as fastify takes it: a number of hops trusts the nearest that many proxies (fastify's rule, which its types leave out). */
function trustedProxies(setting: Config['TRUST_PROXY']): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof setting === 'number' ? (_address, hop) => hop < setting : setting;
}

/** The token of an `Authorization: Bearer <token>` header, if the request has one. */
function bearerToken(request: FastifyRequest): string | undefined {
  return request.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
}

/**
 * Builds the HTTP app: auth and rate limits on every API route, timeouts on every connection,
 * security headers and one error shape on every answer, OpenAPI docs.
 */
export async function buildServer(deps: AppDeps): Promise<FastifyInstance> {
  const { config, logger } = deps;
  // typed as fastify's base logger, so the app is the FastifyInstance that routes take
  const loggerInstance: FastifyBaseLogger = logger.child({ component: 'http' });
  const app = Fastify({
    loggerInstance,
    bodyLimit: config.BODY_LIMIT_BYTES,
    // A client's x-request-id is used only when it is a short safe token (requestIdOf).
    requestIdHeader: false,
    genReqId: requestIdOf,
    trustProxy: trustedProxies(config.TRUST_PROXY),
    // The server with the timeouts of createHttpServer; the admin port gets one alike.
    serverFactory: (handler) => createHttpServer(handler, config),
    ajv: { customOptions: { removeAdditional: false } },
    // One line per request is written in onResponse instead, with the route and the caller.
    logController: new LogController({ disableRequestLogging: true }),
    frameworkErrors: (error, request, reply) => void answerError(error, request, reply),
    clientErrorHandler: answerClientError,
  });
  // JSON only: fastify also parses text/plain, which no route takes.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // Read lazily: hooks of inner scopes (the docs) may still set a route's access after this one ran.
  const routes: RouteOptions[] = [];
  app.addHook('onRoute', (route) => void routes.push(route));
  app.decorate('routeList', {
    getter: () =>
      routes.flatMap((route) =>
        [route.method]
          .flat()
          .filter((method) => method !== 'HEAD')
          .map((method) => ({ method, url: route.url, access: route.config?.access ?? 'service' })),
      ),
  });

  const keys = deps.tokenKeys;
  if (keys.development) {
    logger.warn(
      { developmentSecret: keys.secret, file: keys.development.file },
      `DEVELOPMENT ONLY: JWT_SECRET is not set; tokens are signed with the secret ${keys.development.created ? 'just generated into' : 'kept in'} ${keys.development.file}; ` +
        '`npx stockroom token` run from this directory signs with it too. Set JWT_SECRET for anything shared; NODE_ENV=production refuses to start without it.',
    );
  } else if (config.JWT_SECRET !== undefined && secretWeaknesses(config.JWT_SECRET).length > 0) {
    logger.warn({ weaknesses: secretWeaknesses(config.JWT_SECRET) }, 'JWT_SECRET would be refused with NODE_ENV=production');
  }
  const verifyToken = createTokenVerifier(keys, config);
  const countRequest = await registerRateLimit(app, config);
  app.decorateRequest('caller', null as unknown as Caller);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    reply.headers(securityHeaders);
    reply.header('x-request-id', request.id);
    if (request.routeOptions.config.adminPort === true && !cameInOnAdminPort(request)) return answerNotFound(request, reply);
    // Unmatched URLs have no route options; they get a plain 404 rather than an auth challenge.
    const access = request.routeOptions.url === undefined ? 'public' : (request.routeOptions.config.access ?? 'service');
    const token = access === 'public' ? undefined : bearerToken(request);
    // The token is checked before counting, so a caller counts by its sub and a refused token by its address.
    let verified: Caller | AppError | null = null;
    if (token !== undefined) {
      try {
        verified = verifyToken(token);
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        verified = error;
      }
    }
    if (request.routeOptions.config.rateLimit !== false) await countRequest(request, reply, verified instanceof AppError ? null : (verified?.sub ?? null));
    if (access === 'public') return;
    if (verified === null) throw new AppError('UNAUTHORIZED', 'Send `Authorization: Bearer <token>`');
    if (verified instanceof AppError) throw verified;
    request.caller = verified;
    if (!roleGrants[access].includes(verified.role)) throw new AppError('FORBIDDEN', `This call needs the ${access} role`);
  });

  app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    // The route pattern, not the raw URL, keeps the label set small; unmatched URLs share one label.
    const route = request.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    httpDuration.observe({ method: request.method, route }, seconds);
    request.log.info(
      {
        method: request.method,
        url: request.url,
        route,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        caller: (request.caller as Caller | null)?.sub,
      },
      'request completed',
    );
  });

  // Once closing, answers end their keep-alive connection: close() then waits only for the requests
  // in flight, not for idle clients' connections to time out.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  app.setErrorHandler(answerError);
  app.setNotFoundHandler(answerNotFound);

  await registerDocs(app, packageVersion);
  await registerConsole(app);
  const probe = readinessProbe(deps);
  healthRoutes(app, probe, healthDetailsProbe(deps.pool, config, probe));
  metricsRoutes(app, deps, probe);
  await app.register(
    async (api) => {
      for (const routes of apiRoutes) await routes(api, deps);
    },
    { prefix: '/api/v1' },
  );
  return app;
}
