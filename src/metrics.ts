import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every Prometheus metric of the process, in one registry served at GET /metrics. */
export const registry = new Registry();
// Node's own metrics: stockroom_process_cpu_seconds_total, stockroom_nodejs_heap_size_used_bytes, …
collectDefaultMetrics({ register: registry, prefix: 'stockroom_' });

export const httpRequests = new Counter({
  name: 'stockroom_http_requests_total',
  help: 'HTTP requests answered, by method, route and status',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [registry],
});

export const httpDuration = new Histogram({
  name: 'stockroom_http_request_duration_seconds',
  help: 'Time to answer an HTTP request',
  labelNames: ['method', 'route'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

export const jobsTotal = new Counter({
  name: 'stockroom_allocation_jobs_total',
  help: 'Allocation jobs by final or intermediate status (queued, succeeded, partial, failed, dead_lettered)',
  labelNames: ['status'] as const,
  registers: [registry],
});

export const jobLatency = new Histogram({
  name: 'stockroom_allocation_accept_to_result_seconds',
  help: 'Time from accepting an allocation job to writing its result',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

export const jobRetries = new Counter({
  name: 'stockroom_allocation_job_retries_total',
  help: 'Allocation jobs sent to a retry queue after a transient failure',
  registers: [registry],
});

export const deadLettersTotal = new Counter({
  name: 'stockroom_dead_letters_total',
  help: 'Messages dead-lettered, by queue',
  labelNames: ['queue'] as const,
  registers: [registry],
});

export const unroutablePublishes = new Counter({
  name: 'stockroom_unroutable_publishes_total',
  help: 'Messages RabbitMQ returned because no queue took them (a deleted queue); each is published again later. Alert when it rises',
  labelNames: ['queue'] as const,
  registers: [registry],
});

export const batchSize = new Histogram({
  name: 'stockroom_worker_batch_size',
  help: 'Allocation requests served in one engine transaction, by path: queued jobs (worker) or synchronous reserve/allocate calls (api)',
  labelNames: ['path'] as const,
  buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
  registers: [registry],
});

export const lockWait = new Histogram({
  name: 'stockroom_lot_lock_wait_seconds',
  help: 'Time spent waiting for lot row locks',
  buckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
  registers: [registry],
});

export const queueDepth = new Gauge({
  name: 'stockroom_queue_depth',
  help: 'Messages waiting in a queue, as last read from the broker',
  labelNames: ['queue'] as const,
  registers: [registry],
});

export const reservationsByStatus = new Gauge({
  name: 'stockroom_reservations',
  help: 'Reservations by status as they read (a RESERVED hold past its expiry counts as EXPIRED), as last counted',
  labelNames: ['status'] as const,
  registers: [registry],
});

export const transfersOverdue = new Gauge({
  name: 'stockroom_transfers_overdue',
  help: 'Transfers with units still on their way at or after their expected delivery, as last counted',
  registers: [registry],
});

export const reservationsExpired = new Counter({
  name: 'stockroom_reservations_expired_total',
  help: 'Reservations whose hold ran out and gave their stock back, by who expired them: the sweeper, or the allocation engine in line',
  labelNames: ['by'] as const,
  registers: [registry],
});

export const oversoldLots = new Gauge({
  name: 'stockroom_oversold_lots',
  help: 'Lots whose reserved plus allocated exceed on hand (must always be 0), as last checked',
  registers: [registry],
});

export const eventsPublished = new Counter({
  name: 'stockroom_events_published_total',
  help: 'Outbox events confirmed by the broker, by event type',
  labelNames: ['type'] as const,
  registers: [registry],
});

export const eventPublishFailures = new Counter({
  name: 'stockroom_event_publish_failures_total',
  help: 'Outbox events the broker refused or did not confirm (they are tried again)',
  registers: [registry],
});

export const databaseUp = new Gauge({
  name: 'stockroom_database_up',
  help: "Whether Postgres answered this process's last readiness check (1) or not (0)",
  registers: [registry],
});

export const brokerUp = new Gauge({
  name: 'stockroom_broker_up',
  help: "Whether this process's RabbitMQ connection was open at its last readiness check (1) or not (0)",
  registers: [registry],
});
