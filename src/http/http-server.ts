import { createServer, type RequestListener, type Server } from 'node:http';
import type { Config } from '../config';

/** The settings an HTTP server of Stockroom is built with. */
export type TimeoutSettings = Pick<Config, 'REQUEST_TIMEOUT_MS' | 'HEADERS_TIMEOUT_MS' | 'KEEP_ALIVE_TIMEOUT_MS' | 'CONNECTION_TIMEOUT_MS'>;

/**
 * An HTTP server with Stockroom's timeouts, so a slow or stalled client cannot hold a connection:
 * the headers must arrive within HEADERS_TIMEOUT_MS and the whole request within
 * REQUEST_TIMEOUT_MS (checked every second; Node answers 408 through the clientError handler), an
 * idle keep-alive connection closes after KEEP_ALIVE_TIMEOUT_MS and a silent one after
 * CONNECTION_TIMEOUT_MS. The API's server and the admin port's are both built here.
 */
export function createHttpServer(handler: RequestListener, settings: TimeoutSettings): Server {
  const server = createServer(
    {
      headersTimeout: settings.HEADERS_TIMEOUT_MS,
      requestTimeout: settings.REQUEST_TIMEOUT_MS,
      keepAliveTimeout: settings.KEEP_ALIVE_TIMEOUT_MS,
      connectionsCheckingInterval: 1000,
    },
    handler,
  );
  server.setTimeout(settings.CONNECTION_TIMEOUT_MS);
  return server;
}
