import { FastifyOtelInstrumentation } from '@fastify/otel';
import { AmqplibInstrumentation } from '@opentelemetry/instrumentation-amqplib';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { onTracingStarted } from './trace-context';

/** Probes and scrapes: answered many times a minute, telling nothing about a request's path. */
const UNTRACED_PATHS = /^\/(health|metrics)(\/|\?|$)/;

/**
 * Starts the OpenTelemetry Node SDK: spans of incoming HTTP requests (node:http and fastify's
 * request lifecycle), of pg queries made inside a span, and of amqplib publishes and deliveries,
 * exported as the standard OTEL_* variables say (OTLP to OTEL_EXPORTER_OTLP_ENDPOINT, over
 * OTEL_EXPORTER_OTLP_PROTOCOL, http/protobuf unless set). Traces only: metrics stay on /metrics,
 * logs on stdout.
 */
export function startTracing(): void {
  const sdk = new NodeSDK({
    ...(process.env.OTEL_SERVICE_NAME ? {} : { serviceName: 'stockroom' }),
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.test(request.url ?? '') }),
      new FastifyOtelInstrumentation({ registerOnInitialization: true, ignorePaths: (route) => UNTRACED_PATHS.test(route.url) }),
      // queries outside any span (pollers finding nothing to do) would each be a trace of their own
      new PgInstrumentation({ requireParentSpan: true }),
      new AmqplibInstrumentation(),
    ],
  });
  sdk.start();
  onTracingStarted(() => sdk.shutdown());
}
