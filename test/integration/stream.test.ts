import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { v7 as uuidv7 } from 'uuid';
import { startTestApp, type TestApp } from '../helpers/app';
import { admin, enqueue, service, waitFor } from '../helpers/allocations';

let t: TestApp;
let url: string;
beforeAll(async () => {
  t = await startTestApp('stream', { broker: true, env: { STREAM_INTERVAL_MS: '200' } });
  url = `${await t.app.listen({ host: '127.0.0.1', port: 0 })}/api/v1/stream`;
});
afterAll(async () => t.close());

/** Reads GET /stream as the console does (fetch and an SSE parser) and collects its events until the server ends it. */
function follow(headers: Record<string, string>) {
  const events: { event: string; data: Record<string, any> }[] = [];
  const opened = fetch(url, { headers }).then((response) => {
    if (response.ok && response.body) {
      const parser = createParser({
        onEvent: (message: EventSourceMessage) => events.push({ event: message.event ?? 'message', data: JSON.parse(message.data) }),
      });
      const decoder = new TextDecoder();
      void (async () => {
        try {
          for await (const chunk of response.body!) parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
        } catch {
          // the server closed the stream
        }
      })();
    }
    return response;
  });
  /** A waitFor probe: the first event that passes `test`, once one arrived. */
  const first = (test: (event: (typeof events)[number]) => boolean) => () => Promise.resolve(events.find(test));
  return { events, opened, first };
}

describe('GET /api/v1/stream', () => {
  it('answers 401 without a token and 403 to a service token', async () => {
    const anonymous = await fetch(url);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    const forbidden = await fetch(url, { headers: service });
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
  });

  it('sends metric snapshots counted from the database, and the jobs and dead letters that change', async () => {
    // Left open: closing the app at the end ends it, as a shutdown does.
    const stream = follow(admin);
    const response = await stream.opened;
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    {
      const first = await waitFor(
        'a metrics event',
        stream.first((event) => event.event === 'metrics'),
      );
      expect(first.data).toMatchObject({
        windowSeconds: 10,
        jobs: { acceptedPerSecond: 0, succeededPerSecond: 0, failedPerSecond: 0, latencyMs: { p50: null, p99: null } },
        queueDepth: { low: 0, medium: 0, high: 0, critical: 0 },
        deadLetters: { open: 0 },
        outbox: { pending: 0, lagSeconds: 0 },
        reservations: { RESERVED: 0, ALLOCATED: 0, FULFILLED: 0, RELEASED: 0, EXPIRED: 0 },
        lowStock: { critical: 0, low: 0 },
      });
      expect(new Date(first.data.at).getTime()).toBeGreaterThan(Date.now() - 60_000);

      // No worker runs here: the job stays queued, so it shows in the queue depth and as an accepted job.
      const accepted = (
        await enqueue(t.app, { items: [{ productId: 'p-1', quantity: 1 }], referenceId: 'stream-1', referenceType: 'order', priority: 'critical' })
      ).json();
      const letterId = uuidv7();
      await t.db.pool.query(`insert into dead_letters (id, queue, reason, attempts, payload) values ($1, 'stockroom.allocations', 'unparseable', 1, '{}')`, [
        letterId,
      ]);

      const jobEvent = await waitFor(
        'the job event',
        stream.first((event) => event.event === 'job' && event.data.allocationId === accepted.allocationId),
      );
      expect(jobEvent.data).toMatchObject({ status: 'queued', priority: 'critical', referenceId: 'stream-1' });
      const letterEvent = await waitFor(
        'the dead-letter event',
        stream.first((event) => event.event === 'dead-letter' && event.data.id === letterId),
      );
      expect(letterEvent.data).toMatchObject({ queue: 'stockroom.allocations', reason: 'unparseable', status: 'open', allocationId: null });
      await waitFor(
        'a snapshot with the job and the letter',
        stream.first(
          (event) =>
            event.event === 'metrics' && event.data.queueDepth.critical === 1 && event.data.deadLetters.open === 1 && event.data.jobs.acceptedPerSecond > 0,
        ),
      );
    }
  });

  it('ends open streams when the server closes, so shutdown does not wait for them', async () => {
    const other = await startTestApp('stream-close');
    const address = await other.app.listen({ host: '127.0.0.1', port: 0 });
    const response = await fetch(`${address}/api/v1/stream`, { headers: admin });
    expect(response.status).toBe(200);
    // text() resolves once the server ends the stream.
    const reading = response.text();
    await other.close();
    expect(await reading).toMatch(/^: stockroom live stream/);
  });
});
