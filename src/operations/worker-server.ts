import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createHttpServer, type TimeoutSettings } from '../http/http-server';
import { securityHeaders } from '../http/security-headers';
import type { Logger } from '../logger';
import { registry } from '../metrics';
import type { ReadinessProbe } from './readiness';

type Answer = { status: number; contentType: string; body: string };

const json = (status: number, body: unknown): Answer => ({ status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(body) });

/** The answer to one request; the same paths and bodies the api serves for these. */
async function answer(request: IncomingMessage, probe: ReadinessProbe): Promise<Answer> {
  const path = request.url?.split('?')[0];
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return json(405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'Only GET is served here' } });
  }
  switch (path) {
    case '/health/live':
      return json(200, { status: 'up' });
    case '/health/ready': {
      const readiness = await probe();
      return json(readiness.status === 'up' ? 200 : 503, readiness);
    }
    case '/metrics':
      await probe();
      return { status: 200, contentType: registry.contentType, body: await registry.metrics() };
    default:
      return json(404, { error: { code: 'NOT_FOUND', message: 'Served here: GET /metrics, /health/live and /health/ready' } });
  }
}

/**
 * Serves GET /metrics, /health/live and /health/ready for a process without the HTTP API (the
 * worker role), on its admin port, so it can be scraped and probed like the api; with the api's
 * timeouts, so a stalled client cannot hold it, and its security headers. A taken port is logged and skipped
 * rather than stopping the worker: several workers may share a machine.
 */
export async function startWorkerServer(
  host: string,
  port: number,
  deps: { logger: Logger; probe: ReadinessProbe; timeouts: TimeoutSettings },
): Promise<{ port: number | null; close(): Promise<void> }> {
  const log = deps.logger.child({ component: 'worker-server' });
  const server: Server = createHttpServer((request: IncomingMessage, response: ServerResponse) => {
    answer(request, deps.probe).then(
      ({ status, contentType, body }) =>
        response.writeHead(status, { ...securityHeaders, 'content-type': contentType }).end(request.method === 'HEAD' ? undefined : body),
      (error: unknown) => {
        log.error({ err: error }, 'could not answer');
        response
          .writeHead(500, { ...securityHeaders, 'content-type': 'application/json; charset=utf-8' })
          .end(JSON.stringify({ error: { code: 'INTERNAL', message: 'Something went wrong' } }));
      },
    );
  }, deps.timeouts);
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      log.warn({ err: error, port }, 'port unavailable; this process serves no /metrics or health checks');
      resolve(false);
    });
    server.listen(port, host, () => resolve(true));
  });
  if (listening) log.info({ port }, 'serving /metrics, /health/live and /health/ready');
  return {
    port: listening ? (server.address() as { port: number }).port : null,
    close: () => (listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve()),
  };
}
