import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { translatePgError } from '../db/pg-errors';
import { AppError, ReplayedRefusal, errorStatus, type ErrorCode } from '../errors';
import { securityHeaders } from './security-headers';

// Fastify's own refusals, by code, in words that quote nothing the caller sent (its messages quote the URL).
const frameworkRefusals: Record<string, [ErrorCode, string]> = {
  FST_ERR_BAD_URL: ['VALIDATION_FAILED', 'The URL is not valid: a path segment is not percent-encoded UTF-8'],
  FST_ERR_MAX_PARAM_LENGTH: ['URI_TOO_LONG', 'A path parameter is longer than 100 characters'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json'],
  FST_ERR_CTP_BODY_TOO_LARGE: ['PAYLOAD_TOO_LARGE', 'The request body is too large'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['VALIDATION_FAILED', 'The body is empty; send a JSON object'],
  FST_ERR_CTP_INVALID_JSON_BODY: ['VALIDATION_FAILED', 'The body is not valid JSON, or it sets __proto__ or constructor.prototype'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['VALIDATION_FAILED', 'The body does not match its Content-Length'],
};

const statusCodes = Object.entries(errorStatus) as [ErrorCode, number][];
function codeForStatus(status: number): ErrorCode {
  return statusCodes.find(([, code]) => code === status)?.[0] ?? (status >= 500 ? 'INTERNAL' : 'VALIDATION_FAILED');
}

/** The AppError a failure shows the caller, or null when it is a bug (a 500 that names only the request id). */
export function toAppError(error: FastifyError | Error): AppError | null {
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
  const refusal = frameworkRefusals[(error as FastifyError).code];
  if (refusal) return new AppError(...refusal);
  const status = (error as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) return new AppError(codeForStatus(status), STATUS_CODES[status] ?? 'The request was refused');
  return null;
}

/** When the caller may try again, for failures that say so in `details.retryAfterSeconds` (RATE_LIMITED, OVERLOADED). */
function retryAfterSeconds(error: AppError): number | null {
  const details = error.details as { retryAfterSeconds?: unknown } | undefined;
  return typeof details?.retryAfterSeconds === 'number' ? details.retryAfterSeconds : null;
}

/** The one error handler: an expected failure gets its status and body, anything else a 500 naming the request id. */
export function answerError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  // Refusals before routing (a bad URL) skip the hooks that set these.
  reply.headers(securityHeaders);
  const appError = toAppError(error);
  if (appError) {
    const retryAfter = retryAfterSeconds(appError);
    if (retryAfter !== null) reply.header('retry-after', retryAfter);
    if (appError.status >= 500 && appError.code !== 'OVERLOADED') request.log.warn({ err: error }, appError.message);
    if (appError instanceof ReplayedRefusal) reply.header('idempotent-replayed', 'true');
    return reply.status(appError.status).send(appError.toBody());
  }
  if (isResponseSerializationError(error)) request.log.error({ err: error, issues: error.cause.issues }, 'response did not match its schema');
  else request.log.error({ err: error }, 'unhandled error');
  return reply.status(500).send(new AppError('INTERNAL', 'Something went wrong; the request id names it in the logs', { requestId: request.id }).toBody());
}

/** Unmatched URLs: a 404 in the error shape that does not repeat the URL. */
export function answerNotFound(request: FastifyRequest, reply: FastifyReply) {
  return reply.status(404).send(new AppError('NOT_FOUND', `No route ${request.method} matches this path`).toBody());
}

/**
 * Requests Node's HTTP parser refused before fastify saw them (headers too large, a timeout,
 * malformed HTTP): answered in the error shape, then the connection is closed.
 */
export function answerClientError(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const appError =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new AppError('REQUEST_TIMEOUT', 'The request did not arrive in time')
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? new AppError('HEADERS_TOO_LARGE', 'The request headers are too large')
        : new AppError('VALIDATION_FAILED', 'The request is not valid HTTP');
  this.log.debug({ code: error.code, status: appError.status }, 'refused a request the HTTP parser could not read');
  if (socket.writable) {
    const body = JSON.stringify(appError.toBody());
    const lines = Object.entries({
      ...securityHeaders,
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      connection: 'close',
    });
    socket.write(
      `HTTP/1.1 ${appError.status} ${STATUS_CODES[appError.status]}\r\n${lines.map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n${body}`,
    );
  }
  socket.destroy(error);
}
