import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { secretWeaknesses } from '../auth/secrets';
import { createTokenVerifier, type Caller, type Role } from '../auth/tokens';
import { AppError } from '../errors';
import { httpDuration, httpRequests } from '../metrics';
import { version } from '../../package.json';
import type { Access, AppDeps, RouteModule } from './app-deps';
import { answerClientError, answerError, answerNotFound } from './error-mapping';
import { registerDocs } from './openapi';
import { allocationRoutes } from './routes/allocations';
import { backorderRoutes } from './routes/backorders';
import { catalogueRoutes } from './routes/catalogue';
import { healthRoutes } from './routes/health';
import { inventoryRoutes } from './routes/inventory';
import { metricsRoutes } from './routes/metrics';
import { reservationRoutes } from './routes/reservations';

/** Every resource under /api/v1, one file each. */
const apiRoutes: RouteModule[] = [catalogueRoutes, inventoryRoutes, reservationRoutes, backorderRoutes, allocationRoutes];

const roleGrants: Record<Access, readonly Role[]> = {
  public: ['service', 'admin'],
  service: ['service', 'admin'],
  admin: ['admin'],
};

/** Builds the HTTP app: auth on every API route, one error shape for every failure, OpenAPI docs. */
export async function buildServer(deps: AppDeps): Promise<FastifyInstance> {
  const { config, logger } = deps;
  // typed as fastify's base logger, so the app is the FastifyInstance that routes take
  const loggerInstance: FastifyBaseLogger = logger.child({ component: 'http' });
  const app = Fastify({
    loggerInstance,
    bodyLimit: config.BODY_LIMIT_BYTES,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
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
  app.decorateRequest('caller', null as unknown as Caller);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('x-request-id', request.id);
    // Unmatched URLs have no route options; they get a plain 404 rather than an auth challenge.
    const access = request.routeOptions.url === undefined ? 'public' : (request.routeOptions.config.access ?? 'service');
    if (access === 'public') return;
    const header = request.headers.authorization;
    const token = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token) throw new AppError('UNAUTHORIZED', 'Send `Authorization: Bearer <token>`');
    request.caller = verifyToken(token);
    if (!roleGrants[access].includes(request.caller.role)) {
      throw new AppError('FORBIDDEN', `This call needs the ${access} role`);
    }
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

  app.setErrorHandler(answerError);
  app.setNotFoundHandler(answerNotFound);

  await registerDocs(app, version);
  healthRoutes(app, deps);
  metricsRoutes(app, deps);
  await app.register(
    async (api) => {
      for (const routes of apiRoutes) await routes(api, deps);
    },
    { prefix: '/api/v1' },
  );
  return app;
}
