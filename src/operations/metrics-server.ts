import { createServer, type Server } from 'node:http';
import type { Logger } from '../logger';
import { registry } from '../metrics';

/**
 * Serves GET /metrics for a process without the HTTP API (the worker role), so its job, retry,
 * dead-letter, queue-depth and lock-wait metrics can be scraped too. A taken port is logged and
 * skipped rather than stopping the worker: several workers may share a machine.
 */
export async function startMetricsServer(host: string, port: number, logger: Logger): Promise<{ port: number | null; close(): Promise<void> }> {
  const log = logger.child({ component: 'metrics' });
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'Only GET /metrics is served here' } }));
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) => {
        log.error({ err: error }, 'could not collect metrics');
        response.writeHead(500).end();
      },
    );
  });
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      log.warn({ err: error, port }, 'metrics port unavailable; this process serves no /metrics');
      resolve(false);
    });
    server.listen(port, host, () => resolve(true));
  });
  if (listening) log.info({ port }, 'serving /metrics');
  return {
    port: listening ? (server.address() as { port: number }).port : null,
    close: () => (listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve()),
  };
}
