/**
 * The first import of src/main.ts: starts OpenTelemetry tracing before fastify, pg and amqplib are
 * loaded (instrumentation patches modules as they are required), and only when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set. Unset, the SDK is never even loaded.
 */
if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT) {
  (require('./sdk') as typeof import('./sdk')).startTracing();
}
