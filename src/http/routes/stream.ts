import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { createLiveFeed, type LiveEvent } from '../../operations/live-feed';
import { streamEventSchemas } from '../../schemas/stream';
import type { AppDeps } from '../app-deps';

/** One event in the text/event-stream format. */
function serverSentEvent(event: LiveEvent): string {
  return `event: ${event.name}\ndata: ${JSON.stringify(streamEventSchemas[event.name].encode(event.data as never))}\n\n`;
}

/**
 * GET /stream (admin): Server-Sent Events of the live figures (`metrics`, every STREAM_INTERVAL_MS)
 * and of the jobs (`job`) and dead letters (`dead-letter`) that changed. Read it with any SSE client
 * that can send the Authorization header (the console reads it with fetch).
 */
export function streamRoutes(app: FastifyInstance, deps: AppDeps): void {
  const feed = createLiveFeed(deps.pool, deps.config, deps.logger.child({ component: 'live-feed' }));
  const open = new Set<PassThrough>();
  // Streams never end by themselves: end them before the server waits for its connections to close.
  app.addHook('preClose', (done) => {
    feed.close();
    for (const stream of open) stream.end();
    done();
  });

  app.get(
    '/stream',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'streamEvents',
        tags: ['operations'],
        summary: 'Live figures, job changes and dead-letter changes (Server-Sent Events)',
        description:
          'A `text/event-stream` that stays open. Event `metrics` (at once, then every few seconds): jobs accepted, succeeded and failed per second and ' +
          'accept → result p50/p99 over the last `windowSeconds`, queued jobs per priority, open dead letters, outbox backlog, reservations by status ' +
          'and low-stock counts, counted from Postgres so every process is in them. Event `job`: a job accepted or finished; event `dead-letter`: a ' +
          `letter that arrived or was replayed (each at most 100 per sample, a second behind). Send the token in the Authorization header, never in the URL.\n\n` +
          'Example:\n\n```\nevent: metrics\ndata: {"at":"2026-12-01T10:00:02.000Z","windowSeconds":10,"jobs":{"acceptedPerSecond":41.2,"succeededPerSecond":40.8,' +
          '"failedPerSecond":0.1,"latencyMs":{"p50":38.5,"p99":120.3}},"queueDepth":{"low":0,"medium":3,"high":0,"critical":0},"deadLetters":{"open":2},' +
          '"outbox":{"pending":12,"lagSeconds":0.4},"reservations":{"RESERVED":120,"ALLOCATED":40,"FULFILLED":300,"RELEASED":7,"EXPIRED":2},' +
          '"lowStock":{"critical":1,"low":3}}\n\nevent: job\ndata: {"allocationId":"01a20981-06be-7c1e-9d3a-5b1f0c2e4d6a","status":"succeeded",' +
          '"priority":"high","referenceId":"order-1001","at":"2026-12-01T10:00:01.200Z"}\n```',
        // No parameters: an unexpected one is refused rather than ignored.
        querystring: z.strictObject({}),
        response: {
          200: {
            description: 'Events `metrics`, `job` and `dead-letter`, as long as the connection stays open',
            content: { 'text/event-stream': { schema: z.string() } },
          },
        },
      },
    },
    async (_request, reply) => {
      const stream = new PassThrough();
      open.add(stream);
      const unsubscribe = feed.subscribe((event) => stream.write(serverSentEvent(event)));
      const finish = () => {
        unsubscribe();
        open.delete(stream);
        stream.end();
      };
      reply.raw.once('close', finish);
      stream.once('close', finish);
      // A comment first, so the client sees the stream open before the first sample.
      stream.write(': stockroom live stream\n\n');
      return reply
        .header('content-type', 'text/event-stream; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('x-accel-buffering', 'no')
        .send(stream);
    },
  );
}
