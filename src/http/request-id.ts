import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

// Short and plain, so it is safe in a log line and a header: a UUID, a trace id, `order-1001-reserve`.
const acceptedRequestId = /^[A-Za-z0-9._:-]{1,64}$/;

/** The id a request is logged and answered under: the caller's `x-request-id` when it is a short safe token, else a new UUID. */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && acceptedRequestId.test(given) ? given : randomUUID();
}
