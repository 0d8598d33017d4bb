import { randomUUID } from 'node:crypto';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RouteOptions,
} from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { createTokenVerifier, type Caller, type Role } from '../auth/tokens';
import { translatePgError } from '../db/pg-errors';
import { AppError, errorStatus, type ErrorCode } from '../errors';
import { httpDuration, httpRequests } from '../metrics';
import { version } from '../../package.json';
import type { Access, AppDeps, RouteModule } from './app-deps';
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

const statusCodes = Object.entries(errorStatus) as [ErrorCode, number][];
function codeForStatus(status: number): ErrorCode {
  return statusCodes.find(([, code]) => code === status)?.[0] ?? (status >= 500 ? 'INTERNAL' : 'VALIDATION_FAILED');
}

function toAppError(error: FastifyError | Error): AppError | null {
  if (error instanceof AppError) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((issue) => ({
      path: issue.instancePath.replace(/^\//, '').split('/').filter(Boolean).join('.'),
      message: issue.message,
      code: issue.keyword,
      ...issue.params,
    }));
    return new AppError('VALIDATION_FAILED', `Invalid request ${error.validationContext ?? 'input'}`, { issues });
  }
  const translated = translatePgError(error);
  if (translated instanceof AppError) return translated;
  const status = (error as FastifyError).statusCode;
  if (status === 413) return new AppError('PAYLOAD_TOO_LARGE', 'The request body is too large');
  if (status === 415) return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json');
  if (status !== undefined && status >= 400 && status < 500) return new AppError(codeForStatus(status), error.message);
  return null;
}

/** Builds the HTTP app: auth on every API route, one error shape for every failure, OpenAPI docs. */
export async function buildServer(deps: AppDeps): Promise<FastifyInstance> {
  const { config, logger } = deps;
  const app = Fastify({
    loggerInstance: logger.child({ component: 'http' }) as FastifyBaseLogger,
    bodyLimit: config.BODY_LIMIT_BYTES,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    ajv: { customOptions: { removeAdditional: false } },
    // One line per request is written in onResponse instead, with the route and the caller.
    logController: new LogController({ disableRequestLogging: true }),
  });
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

  const verifyToken = createTokenVerifier(config.JWT_SECRET);
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
      { method: request.method, url: request.url, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, caller: request.caller?.sub },
      'request completed',
    );
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const appError = toAppError(error);
    if (appError) {
      if (appError.status >= 500) request.log.warn({ err: error }, appError.message);
      return reply.status(appError.status).send(appError.toBody());
    }
    if (isResponseSerializationError(error)) request.log.error({ err: error, issues: error.cause.issues }, 'response did not match its schema');
    else request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send(new AppError('INTERNAL', 'Something went wrong; the request id names it in the logs', { requestId: request.id }).toBody());
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(new AppError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`).toBody()),
  );

  await registerDocs(app, version);
  await app.register(async (scope) => healthRoutes(scope, deps));
  await app.register(async (scope) => metricsRoutes(scope, deps));
  await app.register(
    async (api) => {
      for (const routes of apiRoutes) await routes(api, deps);
    },
    { prefix: '/api/v1' },
  );
  return app;
}
