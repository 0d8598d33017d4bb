import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The metrics of what this process did and saw, served at GET /metrics by every process. */
export const registry = new Registry();
// Node's own metrics under their usual names (process_cpu_seconds_total, nodejs_heap_size_used_bytes, …), as stock dashboards expect.
collectDefaultMetrics({ register: registry });
// Gauges named like counters, which `promtool check metrics` rejects; nodejs_active_handles, _requests and _resources (by type) say the same.
for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);

/**
 * The gauges counted from the database (stock, reservations, outbox, dead letters, the ledger
 * check): served only by processes that count them when scraped (the api); a worker-only process
 * leaves them out rather than report values it never read.
 */
export const stateRegistry = new Registry();

/** What the api serves at GET /metrics: its own metrics and the database's state. */
export function apiRegistry(): Registry {
  return Registry.merge([registry, stateRegistry]);
}

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

export const allocationsOverloaded = new Counter({
  name: 'stockroom_allocations_overloaded_total',
  help: 'Allocation jobs refused with 503 OVERLOADED because the backlog was at ALLOCATION_MAX_BACKLOG',
  registers: [registry],
});

export const allocationBacklog = new Gauge({
  name: 'stockroom_allocation_backlog',
  help: 'Allocation jobs accepted but not finished (queued or processing), as last counted by this api process',
  registers: [stateRegistry],
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
  help: 'Messages dead-lettered and recorded, by the queue they came from and the reason',
  labelNames: ['queue', 'reason'] as const,
  registers: [registry],
});

export const deadLettersUnrecorded = new Counter({
  name: 'stockroom_dead_letters_unrecorded_total',
  help: 'Dead letters the database refused to record even escaped: their only copy is in the .dead queue, until DEAD_LETTER_QUEUE_TTL_MS',
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
  registers: [stateRegistry],
});

export const transfersOverdue = new Gauge({
  name: 'stockroom_transfers_overdue',
  help: 'Transfers with units still on their way at or after their expected delivery, as last counted',
  registers: [stateRegistry],
});

export const reservationsExpired = new Counter({
  name: 'stockroom_reservations_expired_total',
  help: 'Reservations whose hold ran out and gave their stock back, by who expired them: the sweeper, the allocation engine in line, or a consistency fix',
  labelNames: ['by'] as const,
  registers: [registry],
});

export const oversoldLots = new Gauge({
  name: 'stockroom_oversold_lots',
  help: 'Lots whose reserved plus allocated exceed on hand (must always be 0), as last checked',
  registers: [stateRegistry],
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

export const eventsConsumed = new Counter({
  name: 'stockroom_events_consumed_total',
  help: "Events read from another service's queue, by queue and outcome: processed, duplicate (applied before), failed (transient: tried again, dead-lettered once attempts run out) or dead_lettered (invalid or refused)",
  labelNames: ['queue', 'outcome'] as const,
  registers: [registry],
});

export const reservationsOverdue = new Gauge({
  name: 'stockroom_reservations_overdue',
  help: 'RESERVED holds past their expiry whose stock the sweeper has not given back yet, as last counted',
  registers: [stateRegistry],
});

export const queuedJobOldestAge = new Gauge({
  name: 'stockroom_allocation_oldest_queued_age_seconds',
  help: 'How long the oldest allocation job accepted and not started yet (or waiting for a retry) has waited (0 when none waits), as last counted',
  registers: [stateRegistry],
});

export const outboxPending = new Gauge({
  name: 'stockroom_outbox_pending_events',
  help: 'Outbox events written and not yet confirmed by the broker, as last counted',
  registers: [stateRegistry],
});

export const outboxOldestAge = new Gauge({
  name: 'stockroom_outbox_oldest_pending_age_seconds',
  help: 'Age of the oldest outbox event not yet confirmed by the broker (0 when none waits), as last counted',
  registers: [stateRegistry],
});

export const deadLettersOpen = new Gauge({
  name: 'stockroom_dead_letters_open',
  help: 'Dead letters waiting for an operator (dead_letters rows with status open), by queue and reason, as last counted',
  labelNames: ['queue', 'reason'] as const,
  registers: [stateRegistry],
});

export const lowStockItems = new Gauge({
  name: 'stockroom_low_stock_items',
  help: 'Products at active warehouses with available stock at or under their reorder point, by severity as GET /inventory/low-stock lists them (LOW, CRITICAL), as last counted',
  labelNames: ['severity'] as const,
  registers: [stateRegistry],
});

export const consistencyFindingsOpen = new Gauge({
  name: 'stockroom_consistency_findings_open',
  help: 'Open findings of the consistency check (GET /admin/consistency?open=true), by kind, as last counted; every kind is served, 0 when none is open',
  labelNames: ['kind'] as const,
  registers: [stateRegistry],
});

/**
 * Lots whose stored quantities differ from the sum of their ledger movements, or (serial-tracked
 * lots) from the counts of their units, as of the last check;
 * registered only once a check has run, so it is absent rather than 0 before anyone looked.
 */
export const reconcileDifferences = new Gauge({
  name: 'stockroom_reconcile_differing_lots',
  help: 'Lots whose stored on hand, reserved or allocated differ from their movement ledger or from their units (must always be 0), as of the last check',
  registers: [],
});

export const reconcileCheckedAt = new Gauge({
  name: 'stockroom_reconcile_last_check_timestamp_seconds',
  help: 'When the ledger check behind stockroom_reconcile_differing_lots last finished (Unix time)',
  registers: [],
});
