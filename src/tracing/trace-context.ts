/**
 * Trace context for the code: the one place that reads and writes W3C trace context (traceparent)
 * in AMQP headers and outbox rows, and starts Stockroom's own spans. Every function is a no-op (no
 * span, no allocation) until src/tracing/sdk.ts started the SDK, that is unless
 * OTEL_EXPORTER_OTLP_ENDPOINT is set.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Link, type Span } from '@opentelemetry/api';

let tracing = false;
let shutdown: (() => Promise<void>) | null = null;

/** Called by the SDK once started, with how to flush and stop it. */
export function onTracingStarted(stop: () => Promise<void>): void {
  tracing = true;
  shutdown = stop;
}

/** True once the SDK is started. */
export function isTracing(): boolean {
  return tracing;
}

/** Exports the spans still buffered and stops the SDK (at shutdown); nothing when tracing is off. */
export async function stopTracing(): Promise<void> {
  await shutdown?.();
}

const tracer = () => trace.getTracer('stockroom');

type Carrier = Record<string, unknown>;

/** The getter for AMQP headers: a header may arrive as a Buffer. */
const headerGetter = {
  keys: (carrier: Carrier) => Object.keys(carrier),
  get: (carrier: Carrier, key: string) => {
    const value = carrier[key];
    return Buffer.isBuffer(value) ? value.toString('utf8') : typeof value === 'string' ? value : undefined;
  },
};

/**
 * The headers of a message to publish with the trace context of `from` (the active context unless
 * given) added: traceparent, and tracestate when there is one. The amqplib instrumentation, when
 * on, puts its publish span's context over them, a child of the same context. The headers given
 * are returned as they are when tracing is off.
 */
export function withTraceHeaders<T extends Carrier | undefined>(headers: T, from: Context = context.active()): T | Carrier {
  if (!tracing) return headers;
  const carrier: Carrier = { ...headers };
  propagation.inject(from, carrier);
  return carrier;
}

/** The trace context a message's headers carry; undefined when tracing is off or they carry none. */
export function contextOfHeaders(headers: Carrier | undefined): Context | undefined {
  if (!tracing || !headers) return undefined;
  const extracted = propagation.extract(ROOT_CONTEXT, headers, headerGetter);
  return trace.getSpanContext(extracted) ? extracted : undefined;
}

/**
 * The trace context of a message being received: the active span's when it continues the trace
 * the headers carry (the amqplib instrumentation's `<queue> process` span, a child of the
 * publisher's), else the headers' own. Undefined when tracing is off or the message carries none.
 */
export function receivedTraceContext(headers: Carrier | undefined): Context | undefined {
  const carried = contextOfHeaders(headers);
  if (!carried) return undefined;
  const active = context.active();
  return trace.getSpanContext(active)?.traceId === trace.getSpanContext(carried)!.traceId ? active : carried;
}

/** The W3C traceparent of a context (the active one unless given), to store beside work it caused; null when tracing is off. */
export function traceparentOf(from: Context = context.active()): string | null {
  if (!tracing) return null;
  const carrier: Record<string, string> = {};
  propagation.inject(from, carrier);
  return carrier.traceparent ?? null;
}

/** The context a stored traceparent names; undefined for none (or when tracing is off). */
export function contextOfTraceparent(traceparent: string | null | undefined): Context | undefined {
  return traceparent ? contextOfHeaders({ traceparent }) : undefined;
}

/** Runs `fn` in `within` when there is one, else as it is. */
export function runWithin<T>(within: Context | undefined, fn: () => T): T {
  return within ? context.with(within, fn) : fn();
}

/** The trace and span ids of the active span, for log lines; undefined outside any span. */
export function activeSpanIds(): { traceId: string; spanId: string } | undefined {
  const span = trace.getSpan(context.active());
  if (!span) return undefined;
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}

/** One allocation job of a batch: its id and the trace context its message carried. */
export type TracedJob = { allocationId: string; parent: Context | undefined };

/** The spans of one worker batch: the batch's context to run it in, and each job's to log, publish and write its events in. */
export type BatchTrace = {
  batch: Context;
  jobs: Context[];
  /** Ends every span of the batch. */
  end(): void;
  /** Ends every span of the batch as failed with `error`. */
  fail(error: unknown): void;
};

/**
 * The spans of a batch of allocation jobs served in one transaction. Each job gets a span
 * `allocation job` (a child of the context its message carried, so its trace goes on from the
 * HTTP accept); the batch a span `allocation batch` linked to every job's message context, and a
 * child of the first job's: one transaction cannot belong to every job's trace, so its queries
 * appear in the first job's (a lone job's trace is complete) and every other job's trace reaches
 * them through its job span's link to the batch. Undefined when tracing is off.
 */
export function startBatchTrace(queue: string, jobs: readonly TracedJob[]): BatchTrace | undefined {
  if (!tracing) return undefined;
  const links: Link[] = [];
  for (const job of jobs) {
    const linked = job.parent && trace.getSpanContext(job.parent);
    if (linked) links.push({ context: linked });
  }
  const first = jobs.find((job) => job.parent)?.parent ?? ROOT_CONTEXT;
  const batchSpan = tracer().startSpan(
    'allocation batch',
    { kind: SpanKind.CONSUMER, links, attributes: { 'messaging.destination.name': queue, 'messaging.batch.message_count': jobs.length } },
    first,
  );
  const batchLink: Link = { context: batchSpan.spanContext() };
  const jobSpans: Span[] = jobs.map((job) =>
    tracer().startSpan(
      'allocation job',
      { kind: SpanKind.CONSUMER, links: [batchLink], attributes: { 'stockroom.allocation_id': job.allocationId, 'messaging.destination.name': queue } },
      job.parent ?? ROOT_CONTEXT,
    ),
  );
  return {
    batch: trace.setSpan(first, batchSpan),
    jobs: jobSpans.map((span, index) => trace.setSpan(jobs[index]!.parent ?? ROOT_CONTEXT, span)),
    end() {
      for (const span of [...jobSpans, batchSpan]) span.end();
    },
    fail(error) {
      for (const span of [...jobSpans, batchSpan]) {
        if (error instanceof Error) span.recordException(error);
        span.setStatus({ code: SpanStatusCode.ERROR, ...(error instanceof Error ? { message: error.message } : {}) });
        span.end();
      }
    },
  };
}
