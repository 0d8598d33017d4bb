import { createServer, type Server } from 'node:http';
import { waitFor } from '../helpers/allocations';
import { tapExchange, type EventTap } from '../helpers/event-tap';
import { startStack, type Stack } from '../helpers/stack';
import { receiveLots, seedCatalogue } from '../helpers/stock';
import { bearer } from '../helpers/tokens';

// Tracing end to end, as an operator turns it on: real api and worker processes of the compiled
// code (instrumentation patches modules as node loads them, which jest's module loader defeats)
// export OTLP/HTTP JSON to a receiver this test runs. One trace must go from the HTTP accept
// through the job's publish, the worker's job and its transaction, to the publish of its event.

/** A span as the receiver keeps it: ids in hex, attributes flattened to plain values. */
type Span = {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
};

const SERVER = 2;
const PRODUCER = 4;
const CONSUMER = 5;

const spans: Span[] = [];
let receiver: Server;
let stack: Stack;
let events: EventTap;

/** OTLP/JSON ids are hex strings; an exporter that sends base64 is read as well. */
const hex = (id: string | undefined): string => (!id ? '' : /^[0-9a-f]+$/.test(id) ? id : Buffer.from(id, 'base64').toString('hex'));

type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
const valueOf = (value: AnyValue): unknown =>
  value.stringValue ?? (value.intValue === undefined ? undefined : Number(value.intValue)) ?? value.boolValue ?? value.doubleValue;

function keep(body: any): void {
  for (const resource of body.resourceSpans ?? [])
    for (const scope of resource.scopeSpans ?? [])
      for (const span of scope.spans ?? [])
        spans.push({
          traceId: hex(span.traceId),
          spanId: hex(span.spanId),
          parentSpanId: hex(span.parentSpanId),
          name: span.name,
          kind: span.kind,
          attributes: Object.fromEntries((span.attributes ?? []).map((attribute: any) => [attribute.key, valueOf(attribute.value)])),
          links: (span.links ?? []).map((link: any) => ({ traceId: hex(link.traceId), spanId: hex(link.spanId) })),
        });
}

beforeAll(async () => {
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      if (request.url === '/v1/traces') keep(JSON.parse(body));
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as { port: number };
  stack = await startStack('tracing', {
    env: {
      LOG_LEVEL: 'info',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_NODE_RESOURCE_DETECTORS: 'none',
    },
  });
  await seedCatalogue(stack.db.pool, { warehouses: [{ id: 'wh-t' }], products: ['traced-p'] });
  await receiveLots(stack.db.pool, [{ productId: 'traced-p', warehouseId: 'wh-t', quantity: 10 }]);
  events = await tapExchange(stack.vhost.url, 'inventory.events');
}, 120_000);
afterAll(async () => {
  await events.close();
  await stack.stop();
  await new Promise((resolve) => receiver.close(resolve));
});

const byId = (id: string) => spans.find((span) => span.spanId === id);

/** The span's ancestors, nearest first, as far as they were received. */
function ancestorsOf(span: Span): Span[] {
  const chain: Span[] = [];
  for (let parent = byId(span.parentSpanId); parent; parent = byId(parent.parentSpanId)) chain.push(parent);
  return chain;
}

describe('one trace', () => {
  it('links the HTTP accept, the publish, the worker’s job and its transaction, and the publish of its event', async () => {
    const response = await fetch(`${stack.url}/api/v1/allocations`, {
      method: 'POST',
      headers: { ...bearer('service', 'traced-shop'), 'content-type': 'application/json', 'idempotency-key': 'traced-1' },
      body: JSON.stringify({ items: [{ productId: 'traced-p', quantity: 3 }], mode: 'allocate', referenceId: 'ord-traced', referenceType: 'order' }),
    });
    expect(response.status).toBe(202);
    const { allocationId } = (await response.json()) as { allocationId: string };

    // the HTTP accept: its server span starts the trace
    const accept = await waitFor('the server span of the accept', () =>
      spans.find((span) => span.kind === SERVER && span.attributes['http.route'] === '/api/v1/allocations'),
    );
    expect(accept.parentSpanId).toBe('');
    const inTrace = () => spans.filter((span) => span.traceId === accept.traceId);

    // the job's message, published inside the request
    const publish = await waitFor('the publish of the job', () =>
      inTrace().find((span) => span.kind === PRODUCER && span.attributes['messaging.message_id'] === allocationId),
    );
    expect(ancestorsOf(publish)).toContainEqual(accept);

    // the worker's span of the job, a descendant of that publish (through amqplib's `process` span)
    const job = await waitFor('the job span', () =>
      inTrace().find((span) => span.name === 'allocation job' && span.attributes['stockroom.allocation_id'] === allocationId),
    );
    expect(job.kind).toBe(CONSUMER);
    expect(ancestorsOf(job)).toContainEqual(publish);

    // the batch's span: a child of the job's message context here (the batch is this one job), linked to it
    const batch = await waitFor('the batch span', () => inTrace().find((span) => span.name === 'allocation batch' && byId(job.links[0]!.spanId) === span));
    expect(ancestorsOf(batch)).toContainEqual(publish);
    expect(batch.links).toContainEqual({ traceId: accept.traceId, spanId: job.parentSpanId });

    // the batch's queries, the transaction's commit among them, in the same trace
    const queries = await waitFor('the transaction’s queries', () => {
      const found = inTrace().filter((span) => span.attributes['db.system.name'] === 'postgresql' && ancestorsOf(span).includes(batch));
      return found.some((span) => span.attributes['db.query.text'] === 'commit') ? found : undefined;
    });
    const statements = queries.map((span) => String(span.attributes['db.query.text']));
    expect(statements).toContain('begin');
    expect(statements.some((text) => /from allocation_requests a[\s\S]*for no key update/.test(text))).toBe(true);

    // the relay's publish of the job's event continues the job's trace, and the event carries its context
    const event = await waitFor('the event of the job', () => events.messages.find((message) => message.body.allocationId === allocationId), 20_000);
    const eventPublish = await waitFor('the publish of the event', () =>
      inTrace().find((span) => span.kind === PRODUCER && span.attributes['messaging.message_id'] === event.messageId),
    );
    expect(ancestorsOf(eventPublish)[0]).toEqual(job);
    const traceparent = String(event.raw.properties.headers?.traceparent);
    expect(traceparent).toBe(`00-${accept.traceId}-${eventPublish.spanId}-01`);
    expect(event.body).toMatchObject({ allocationId });

    // the accept's request line and every line the worker wrote about the job name the job and its trace
    const linesOf = (role: string) =>
      stack
        .logs()
        .split('\n')
        .filter((line) => line.startsWith(`[${role} `) && line.includes(allocationId))
        .map((line) => JSON.parse(line.slice(line.indexOf('{'))));
    expect(linesOf('api').find((line) => line.msg === 'request completed')).toMatchObject({ allocationId, traceId: accept.traceId, status: 202 });
    const workerLines = linesOf('worker');
    expect(workerLines.map((line) => line.msg)).toContain('allocation job settled');
    for (const line of workerLines) expect(line).toMatchObject({ allocationId, traceId: accept.traceId });
  }, 60_000);
});
