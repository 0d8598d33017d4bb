import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { answerClientError } from './error-mapping';
import { createHttpServer, type TimeoutSettings } from './http-server';

const adminRequests = new WeakSet<IncomingMessage>();

/** Whether a request came in on the admin port; routes marked `adminPort` answer 404 anywhere else. */
export function cameInOnAdminPort(request: FastifyRequest): boolean {
  return adminRequests.has(request.raw);
}

/** The admin port once listening: where it is, and how to stop it. */
export type AdminPort = { port: number; close(): Promise<void> };

/**
 * Serves the app on a second address (ADMIN_HOST:ADMIN_PORT), for operators and scrapers rather
 * than callers: the same routes, auth, limits and timeouts, plus those only this port answers
 * (/metrics, /docs). A port already taken is logged and skipped, as several processes may share a
 * machine. Call it once the app is ready.
 */
export async function listenOnAdminPort(app: FastifyInstance, host: string, port: number, settings: TimeoutSettings): Promise<AdminPort | null> {
  const server: Server = createHttpServer((request, response) => {
    adminRequests.add(request);
    app.routing(request, response);
  }, settings);
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    answerClientError.call(app, error, socket);
  });
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      app.log.warn({ err: error, port }, 'admin port unavailable; this process serves no /metrics or /docs');
      resolve(false);
    });
    server.listen(port, host, () => resolve(true));
  });
  if (!listening) return null;
  const address = server.address() as { port: number };
  app.log.info({ host, port: address.port }, 'admin port serving /metrics and /docs');
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
