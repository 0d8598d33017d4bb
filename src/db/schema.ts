import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  numeric,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { priorities } from '../domain/priority';
import { trackingModes, unitStatuses } from '../domain/units';

/**
 * A request's priority, by name. An enum sorts in the order its values are declared, lowest first
 * as in src/domain/priority.ts, so `order by priority desc` serves critical first.
 */
export const requestPriority = pgEnum('request_priority', priorities);

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();

export const warehouses = pgTable(
  'warehouses',
  {
    id: text('id').primaryKey(),
    code: text('code').notNull(),
    name: text('name').notNull(),
    type: text('type').notNull().default('DISTRIBUTION_CENTER'),
    priority: integer('priority').notNull().default(0),
    latitude: doublePrecision('latitude'),
    longitude: doublePrecision('longitude'),
    premium: boolean('premium').notNull().default(false),
    active: boolean('active').notNull().default(true),
    /** postal address (seed 002's address JSONB): line1, line2, city, region, postalCode, country */
    address: jsonb('address'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    uniqueIndex('warehouses_code_key').on(table.code),
    check('warehouses_latitude_range', sql`${table.latitude} between -90 and 90`),
    check('warehouses_longitude_range', sql`${table.longitude} between -180 and 180`),
  ],
);

export const products = pgTable(
  'products',
  {
    id: text('id').primaryKey(),
    sku: text('sku').notNull(),
    name: text('name').notNull(),
    /** ACTIVE, or DISCONTINUED: takes no new reservations (src/domain/catalogue.ts) */
    status: text('status').notNull().default('ACTIVE'),
    /** lot: counted by lot quantities only; serial: unit by unit under serial numbers (stock_units, src/domain/units.ts) */
    tracking: text('tracking').notNull().default('lot'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    uniqueIndex('products_sku_key').on(table.sku),
    check('products_status_known', sql`${table.status} in ('ACTIVE', 'DISCONTINUED')`),
    check('products_tracking_known', sql.raw(`tracking in (${trackingModes.map((mode) => `'${mode}'`).join(', ')})`)),
    // the engine asks which requested products are discontinued: few are, so this index stays tiny
    index('products_discontinued_idx')
      .on(table.id)
      .where(sql`${table.status} = 'DISCONTINUED'`),
  ],
);

/**
 * One lot: a receipt of a product at a warehouse. available = quantity - reserved - allocated, never negative.
 * Stored with fillfactor 50 (drizzle/0023_lots_fillfactor.sql): every movement updates its lot, and
 * room on the page keeps those updates HOT.
 */
export const inventoryItems = pgTable(
  'inventory_items',
  {
    id: uuid('id').primaryKey(),
    productId: text('product_id')
      .notNull()
      .references(() => products.id),
    warehouseId: text('warehouse_id')
      .notNull()
      .references(() => warehouses.id),
    binLocation: text('bin_location'),
    lotNumber: text('lot_number'),
    quantity: integer('quantity').notNull(),
    reservedQuantity: integer('reserved_quantity').notNull().default(0),
    allocatedQuantity: integer('allocated_quantity').notNull().default(0),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    unitCost: numeric('unit_cost', { precision: 14, scale: 4 }),
    version: integer('version').notNull().default(0),
    /**
     * its product's tracking is serial: set from the product when the lot is created and kept so when
     * the tracking changes (triggers of drizzle/0020_lots_serial_tracked.sql), so that the deferred
     * check of a lot against its units runs only for serial-tracked lots
     */
    serialTracked: boolean('serial_tracked').notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    index('inventory_items_product_warehouse_idx').on(table.productId, table.warehouseId),
    index('inventory_items_warehouse_idx').on(table.warehouseId),
    check('inventory_items_quantity_nonnegative', sql`${table.quantity} >= 0`),
    check('inventory_items_reserved_nonnegative', sql`${table.reservedQuantity} >= 0`),
    check('inventory_items_allocated_nonnegative', sql`${table.allocatedQuantity} >= 0`),
    check('inventory_items_available_nonnegative', sql`${table.reservedQuantity} + ${table.allocatedQuantity} <= ${table.quantity}`),
    check('inventory_items_unit_cost_nonnegative', sql`${table.unitCost} >= 0`),
  ],
);

/** Reorder and bin settings per product and warehouse, and the low-stock alerts outstanding until stock recovers. */
export const stockSettings = pgTable(
  'stock_settings',
  {
    productId: text('product_id')
      .notNull()
      .references(() => products.id),
    warehouseId: text('warehouse_id')
      .notNull()
      .references(() => warehouses.id),
    reorderPoint: integer('reorder_point').notNull().default(0),
    reorderQuantity: integer('reorder_quantity').notNull().default(0),
    minStockLevel: integer('min_stock_level').notNull().default(0),
    maxStockLevel: integer('max_stock_level'),
    zone: text('zone'),
    aisle: text('aisle'),
    shelf: text('shelf'),
    // the LowStockAlerts outstanding: for the crossing down to the reorder point, and for the one on to CRITICAL
    lowStockAlerted: boolean('low_stock_alerted').notNull().default(false),
    criticalStockAlerted: boolean('critical_stock_alerted').notNull().default(false),
    updatedAt: updatedAt(),
  },
  (table) => [
    primaryKey({ columns: [table.productId, table.warehouseId] }),
    index('stock_settings_warehouse_idx').on(table.warehouseId),
    check('stock_settings_levels_nonnegative', sql`${table.reorderPoint} >= 0 and ${table.reorderQuantity} >= 0 and ${table.minStockLevel} >= 0`),
    check('stock_settings_max_over_min', sql`${table.maxStockLevel} is null or ${table.maxStockLevel} >= ${table.minStockLevel}`),
  ],
);

/**
 * The append-only movement ledger: one row per change of a lot's quantities, with the delta and the
 * value after for each of on hand, reserved and allocated. Summing the deltas reproduces every lot.
 */
export const inventoryTransactions = pgTable(
  'inventory_transactions',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    lotId: uuid('lot_id')
      .notNull()
      .references(() => inventoryItems.id),
    productId: text('product_id').notNull(),
    warehouseId: text('warehouse_id').notNull(),
    type: text('type').notNull(),
    quantityDelta: integer('quantity_delta').notNull().default(0),
    reservedDelta: integer('reserved_delta').notNull().default(0),
    allocatedDelta: integer('allocated_delta').notNull().default(0),
    quantityAfter: integer('quantity_after').notNull(),
    reservedAfter: integer('reserved_after').notNull(),
    allocatedAfter: integer('allocated_after').notNull(),
    reason: text('reason'),
    referenceType: text('reference_type'),
    referenceId: text('reference_id'),
    actor: text('actor').notNull(),
    createdAt: createdAt(),
  },
  (table) => [
    index('inventory_transactions_product_time_idx').on(table.productId, table.createdAt),
    index('inventory_transactions_lot_idx').on(table.lotId),
    index('inventory_transactions_reference_idx').on(table.referenceType, table.referenceId),
  ],
);

export const reservations = pgTable(
  'reservations',
  {
    id: uuid('id').primaryKey(),
    /** whose reservation it is (src/domain/ownership.ts); order ids are scoped by it */
    owner: text('owner').notNull(),
    orderId: text('order_id').notNull(),
    customerId: text('customer_id'),
    status: text('status').notNull(),
    priority: text('priority').notNull().default('medium'),
    strategy: text('strategy').notNull().default('fifo'),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    version: integer('version').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    index('reservations_status_expiry_idx').on(table.status, table.expiresAt),
    // the lookups of GET /inventory/reservations, each listing newest first
    // (an owner's order: order ids are rarely shared, so the order's index serves it with the owner as a filter)
    index('reservations_order_idx').on(table.orderId, table.createdAt, table.id),
    index('reservations_owner_created_idx').on(table.owner, table.createdAt, table.id),
    index('reservations_status_created_idx').on(table.status, table.createdAt, table.id),
    index('reservations_created_idx').on(table.createdAt, table.id),
    index('reservations_expires_idx').on(table.expiresAt),
    check('reservations_status_known', sql`${table.status} in ('RESERVED', 'ALLOCATED', 'FULFILLED', 'RELEASED', 'EXPIRED')`),
  ],
);

/** What a reservation holds, lot by lot: reserved, then allocated, then shipped. */
export const reservationLines = pgTable(
  'reservation_lines',
  {
    id: uuid('id').primaryKey(),
    reservationId: uuid('reservation_id')
      .notNull()
      .references(() => reservations.id),
    lotId: uuid('lot_id')
      .notNull()
      .references(() => inventoryItems.id),
    productId: text('product_id').notNull(),
    warehouseId: text('warehouse_id').notNull(),
    quantity: integer('quantity').notNull(),
    allocatedQuantity: integer('allocated_quantity').notNull().default(0),
    shippedQuantity: integer('shipped_quantity').notNull().default(0),
    releasedQuantity: integer('released_quantity').notNull().default(0),
    /** units moved to another reservation (POST /inventory/reservations/:id/transfer): still reserved, by that one */
    movedQuantity: integer('moved_quantity').notNull().default(0),
  },
  (table) => [
    index('reservation_lines_reservation_idx').on(table.reservationId),
    index('reservation_lines_lot_idx').on(table.lotId),
    // reservations holding a product, or holding stock at a warehouse
    index('reservation_lines_product_idx').on(table.productId, table.reservationId),
    index('reservation_lines_warehouse_idx').on(table.warehouseId, table.reservationId),
    check('reservation_lines_quantity_positive', sql`${table.quantity} > 0`),
    check(
      'reservation_lines_parts_fit',
      sql`${table.allocatedQuantity} >= 0 and ${table.shippedQuantity} >= 0 and ${table.releasedQuantity} >= 0 and ${table.movedQuantity} >= 0 and ${table.shippedQuantity} <= ${table.allocatedQuantity} and ${table.allocatedQuantity} + ${table.releasedQuantity} + ${table.movedQuantity} <= ${table.quantity}`,
    ),
  ],
);

export const reservationStatusHistory = pgTable(
  'reservation_status_history',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    reservationId: uuid('reservation_id')
      .notNull()
      .references(() => reservations.id),
    fromStatus: text('from_status'),
    toStatus: text('to_status').notNull(),
    reason: text('reason'),
    reference: text('reference'),
    actor: text('actor').notNull(),
    createdAt: createdAt(),
  },
  (table) => [index('reservation_status_history_reservation_idx').on(table.reservationId)],
);

/**
 * One unit of a serial-tracked product (seed 004), in the lot it was received into. Its lot's
 * quantities are the counts of its units (src/domain/units.ts lotCountsOf), held so at every commit
 * by the deferred trigger of drizzle/0015_stock_units.sql. reservationId names the reservation a
 * Reserved, Sold or Delivered unit belongs to. A serial number delivered or written off and then
 * returned comes back as a new unit, its next life (`life`, `previousUnitId` the unit it returns);
 * of a product's units with one serial number at most one is in stock (src/domain/units.ts comingIn).
 */
export const stockUnits = pgTable(
  'stock_units',
  {
    id: uuid('id').primaryKey(),
    productId: text('product_id')
      .notNull()
      .references(() => products.id),
    warehouseId: text('warehouse_id')
      .notNull()
      .references(() => warehouses.id),
    lotId: uuid('lot_id')
      .notNull()
      .references(() => inventoryItems.id),
    serialNumber: text('serial_number').notNull(),
    condition: text('condition').notNull().default('New'),
    status: text('status').notNull().default('AVAILABLE'),
    reservationId: uuid('reservation_id').references(() => reservations.id),
    /** 1 for a serial number's first unit, then one more for each return of it after it left stock */
    life: integer('life').notNull().default(1),
    /** the unit of the serial number's previous life, which this one's return brought back */
    previousUnitId: uuid('previous_unit_id').references((): AnyPgColumn => stockUnits.id),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    // a serial number's lives, in order; the latest is its current unit (unitIsCurrentSql)
    uniqueIndex('stock_units_product_serial_life_key').on(table.productId, table.serialNumber, table.life),
    // at most one unit of a serial number in stock: two receipts or returns of it cannot both commit
    uniqueIndex('stock_units_product_serial_in_stock_key')
      .on(table.productId, table.serialNumber)
      .where(sql.raw("status in ('AVAILABLE', 'RESERVED', 'SOLD')")),
    index('stock_units_previous_unit_idx').on(table.previousUnitId),
    index('stock_units_serial_idx').on(table.serialNumber),
    // the units a movement of a lot moves, by status
    index('stock_units_lot_status_idx').on(table.lotId, table.status, table.serialNumber),
    index('stock_units_reservation_idx').on(table.reservationId),
    index('stock_units_product_status_idx').on(table.productId, table.status, table.id),
    // the warehouse foreign key's checks (a warehouse deleted or its id changed)
    index('stock_units_warehouse_idx').on(table.warehouseId),
    check('stock_units_status_known', sql.raw(`status in (${unitStatuses.map((status) => `'${status}'`).join(', ')})`)),
  ],
);

/** Every status a unit has had: one row per step, from null when it was received. */
export const unitStatusHistory = pgTable(
  'unit_status_history',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    unitId: uuid('unit_id')
      .notNull()
      .references(() => stockUnits.id),
    fromStatus: text('from_status'),
    toStatus: text('to_status').notNull(),
    reason: text('reason'),
    reference: text('reference'),
    actor: text('actor').notNull(),
    createdAt: createdAt(),
  },
  (table) => [index('unit_status_history_unit_idx').on(table.unitId, table.id)],
);

/**
 * An allocation job accepted by the intake. publishedAt stays null until the broker confirmed the
 * message, so a relay can publish what a broker outage left behind.
 */
export const allocationRequests = pgTable(
  'allocation_requests',
  {
    id: uuid('id').primaryKey(),
    /** whose job it is (src/domain/ownership.ts); its Idempotency-Key and referenceId are scoped by it */
    owner: text('owner').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    requestHash: text('request_hash').notNull(),
    /** The x-request-id of the call that accepted the job, to find it in the logs. */
    requestId: text('request_id'),
    status: text('status').notNull().default('queued'),
    priority: text('priority').notNull(),
    mode: text('mode').notNull(),
    referenceId: text('reference_id').notNull(),
    referenceType: text('reference_type').notNull(),
    request: jsonb('request').notNull(),
    actor: text('actor').notNull(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    deadlineAt: timestamp('deadline_at', { withTimezone: true }),
    publishedAt: timestamp('published_at', { withTimezone: true }),
    startedAt: timestamp('started_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    uniqueIndex('allocation_requests_owner_idempotency_key').on(table.owner, table.idempotencyKey),
    // The filters of GET /allocations, each listing newest first.
    index('allocation_requests_reference_idx').on(table.referenceId, table.createdAt, table.id),
    index('allocation_requests_owner_created_idx').on(table.owner, table.createdAt, table.id),
    index('allocation_requests_status_created_idx').on(table.status, table.createdAt, table.id),
    index('allocation_requests_priority_created_idx').on(table.priority, table.createdAt, table.id),
    index('allocation_requests_created_idx').on(table.createdAt, table.id),
    index('allocation_requests_unpublished_idx')
      .on(table.createdAt)
      .where(sql`${table.publishedAt} is null`),
    // the jobs not finished yet, oldest change first: the relay finds stalled ones without reading the finished
    index('allocation_requests_unfinished_idx')
      .on(table.updatedAt)
      .where(sql`${table.status} in ('queued', 'processing')`),
    check('allocation_requests_status_known', sql`${table.status} in ('queued', 'processing', 'succeeded', 'partial', 'failed', 'dead_lettered')`),
  ],
);

/** The one final result of an allocation job; its primary key makes a redelivered message change nothing. */
export const allocationResults = pgTable(
  'allocation_results',
  {
    allocationId: uuid('allocation_id')
      .primaryKey()
      .references(() => allocationRequests.id),
    status: text('status').notNull(),
    result: jsonb('result').notNull(),
    reservationId: uuid('reservation_id').references(() => reservations.id),
    executionTimeMs: integer('execution_time_ms').notNull(),
    completedAt: timestamp('completed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    // The live stream counts and times the jobs finished in its last few seconds.
    index('allocation_results_completed_idx').on(table.completedAt),
    index('allocation_results_reservation_idx').on(table.reservationId),
  ],
);

/** Answers (and refusals) of the synchronous endpoints, kept by Idempotency-Key so a repeat gets the first answer again; pruned after IDEMPOTENCY_RETENTION_HOURS. */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    responseStatus: integer('response_status').notNull(),
    responseBody: jsonb('response_body').notNull(),
    createdAt: createdAt(),
  },
  // the pruner deletes the oldest keys first (IDEMPOTENCY_RETENTION_HOURS)
  (table) => [primaryKey({ columns: [table.scope, table.key] }), index('idempotency_keys_created_idx').on(table.createdAt)],
);

export const backorderItems = pgTable(
  'backorder_items',
  {
    id: uuid('id').primaryKey(),
    /** whose backorder it is (src/domain/ownership.ts), the owner of the request that left it */
    owner: text('owner').notNull(),
    productId: text('product_id')
      .notNull()
      .references(() => products.id),
    warehouseId: text('warehouse_id').references(() => warehouses.id),
    quantity: integer('quantity').notNull(),
    fulfilledQuantity: integer('fulfilled_quantity').notNull().default(0),
    status: text('status').notNull().default('OPEN'),
    mode: text('mode').notNull().default('reserve'),
    priority: requestPriority('priority').notNull(),
    strategy: text('strategy').notNull().default('fifo'),
    reservationId: uuid('reservation_id').references(() => reservations.id),
    allocationId: uuid('allocation_id').references(() => allocationRequests.id),
    referenceType: text('reference_type'),
    referenceId: text('reference_id'),
    // what a fill needs to serve the backorder the way the original request asked
    customerId: text('customer_id'),
    destinationLatitude: doublePrecision('destination_latitude'),
    destinationLongitude: doublePrecision('destination_longitude'),
    reservationMinutes: integer('reservation_minutes').notNull().default(30),
    actor: text('actor').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    index('backorder_items_open_idx')
      .on(table.productId, table.priority.desc(), table.createdAt)
      .where(sql`${table.status} = 'OPEN'`),
    // the lookups of GET /backorders, each in the order fills serve them
    index('backorder_items_serving_idx').on(table.priority.desc(), table.createdAt, table.id),
    index('backorder_items_status_idx').on(table.status, table.priority.desc(), table.createdAt, table.id),
    index('backorder_items_product_idx').on(table.productId, table.priority.desc(), table.createdAt, table.id),
    index('backorder_items_warehouse_idx').on(table.warehouseId, table.priority.desc(), table.createdAt, table.id),
    index('backorder_items_reference_idx').on(table.referenceId, table.priority.desc(), table.createdAt, table.id),
    index('backorder_items_owner_serving_idx').on(table.owner, table.priority.desc(), table.createdAt, table.id),
    index('backorder_items_reservation_idx').on(table.reservationId),
    index('backorder_items_allocation_idx').on(table.allocationId),
    index('backorder_items_created_idx').on(table.createdAt),
    check('backorder_items_quantities', sql`${table.quantity} > 0 and ${table.fulfilledQuantity} between 0 and ${table.quantity}`),
    check('backorder_items_status_known', sql`${table.status} in ('OPEN', 'FULFILLED', 'CANCELLED')`),
  ],
);

/** A transfer between two warehouses: its units leave the source at once and arrive, in part or whole, when received. */
export const transfers = pgTable(
  'transfers',
  {
    id: uuid('id').primaryKey(),
    fromWarehouseId: text('from_warehouse_id')
      .notNull()
      .references(() => warehouses.id),
    toWarehouseId: text('to_warehouse_id')
      .notNull()
      .references(() => warehouses.id),
    status: text('status').notNull().default('IN_TRANSIT'),
    reference: text('reference'),
    reason: text('reason'),
    expectedDelivery: timestamp('expected_delivery', { withTimezone: true }),
    actor: text('actor').notNull(),
    createdAt: createdAt(),
    // when the last units arrived (status RECEIVED)
    receivedAt: timestamp('received_at', { withTimezone: true }),
    cancelledAt: timestamp('cancelled_at', { withTimezone: true }),
    cancelReason: text('cancel_reason'),
    updatedAt: updatedAt(),
  },
  (table) => [
    // the lookups of GET /inventory/transfers, each listing newest first
    index('transfers_status_idx').on(table.status, table.createdAt, table.id),
    index('transfers_from_idx').on(table.fromWarehouseId, table.createdAt, table.id),
    index('transfers_to_idx').on(table.toWarehouseId, table.createdAt, table.id),
    index('transfers_created_idx').on(table.createdAt, table.id),
    check('transfers_status_known', sql`${table.status} in ('IN_TRANSIT', 'PARTIALLY_RECEIVED', 'RECEIVED', 'CANCELLED')`),
    check('transfers_distinct_warehouses', sql`${table.fromWarehouseId} <> ${table.toWarehouseId}`),
  ],
);

/** One product of a transfer as seed 002 answers it: how much, and the stock at both ends when it was sent. */
export const transferItems = pgTable(
  'transfer_items',
  {
    transferId: uuid('transfer_id')
      .notNull()
      .references(() => transfers.id),
    productId: text('product_id')
      .notNull()
      .references(() => products.id),
    quantity: integer('quantity').notNull(),
    // on hand at the source before and after the units left, and at the destination once they arrive (null for transfers sent before these were kept)
    sourceQuantityBefore: integer('source_quantity_before'),
    sourceQuantityAfter: integer('source_quantity_after'),
    destinationQuantityExpected: integer('destination_quantity_expected'),
  },
  (table) => [primaryKey({ columns: [table.transferId, table.productId] }), index('transfer_items_product_idx').on(table.productId, table.transferId)],
);

/** Stock in transit, one line per source lot, keeping the lot's age, expiry and cost for its arrival. */
export const transferLines = pgTable(
  'transfer_lines',
  {
    id: uuid('id').primaryKey(),
    transferId: uuid('transfer_id')
      .notNull()
      .references(() => transfers.id),
    productId: text('product_id')
      .notNull()
      .references(() => products.id),
    sourceLotId: uuid('source_lot_id')
      .notNull()
      .references(() => inventoryItems.id),
    destinationLotId: uuid('destination_lot_id').references(() => inventoryItems.id),
    quantity: integer('quantity').notNull(),
    // what became of the units: arrived, found short on arrival, or back at the source lot (a cancelled transfer); the rest is in transit
    receivedQuantity: integer('received_quantity').notNull().default(0),
    shortQuantity: integer('short_quantity').notNull().default(0),
    returnedQuantity: integer('returned_quantity').notNull().default(0),
    lotNumber: text('lot_number'),
    unitCost: numeric('unit_cost', { precision: 14, scale: 4 }),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
  },
  (table) => [
    index('transfer_lines_transfer_idx').on(table.transferId),
    index('transfer_lines_product_idx').on(table.productId),
    index('transfer_lines_source_lot_idx').on(table.sourceLotId),
    index('transfer_lines_destination_lot_idx').on(table.destinationLotId),
    check('transfer_lines_quantity_positive', sql`${table.quantity} > 0`),
    check(
      'transfer_lines_parts_fit',
      sql`${table.receivedQuantity} >= 0 and ${table.shortQuantity} >= 0 and ${table.returnedQuantity} >= 0 and ${table.receivedQuantity} + ${table.shortQuantity} + ${table.returnedQuantity} <= ${table.quantity}`,
    ),
  ],
);

/** Events written in the same transaction as the change they describe; a relay publishes them in id order. */
export const outboxEvents = pgTable(
  'outbox_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    eventId: uuid('event_id').notNull(),
    eventType: text('event_type').notNull(),
    routingKey: text('routing_key').notNull(),
    aggregateType: text('aggregate_type').notNull(),
    aggregateId: text('aggregate_id').notNull(),
    payload: jsonb('payload').notNull(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    availableAt: timestamp('available_at', { withTimezone: true }).notNull().defaultNow(),
    publishedAt: timestamp('published_at', { withTimezone: true }),
    // the W3C traceparent of the work that wrote the event, so its publish continues that trace (null when tracing is off)
    traceparent: text('traceparent'),
    createdAt: createdAt(),
  },
  (table) => [
    uniqueIndex('outbox_events_event_id_key').on(table.eventId),
    // the relay's claim reads the unpublished events here in id order, and the events it passed over
    // by id range (see claimPendingEvents)
    index('outbox_events_pending_idx')
      .on(table.id)
      .where(sql`${table.publishedAt} is null`),
    // published rows only, for retention: the unpublished ones are read through the pending index alone
    index('outbox_events_published_idx')
      .on(table.publishedAt)
      .where(sql`${table.publishedAt} is not null`),
  ],
);

/** Events consumed from other services, by eventId, so a redelivery changes nothing. */
export const processedEvents = pgTable(
  'processed_events',
  {
    consumer: text('consumer').notNull(),
    eventId: text('event_id').notNull(),
    eventType: text('event_type').notNull(),
    processedAt: timestamp('processed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.consumer, table.eventId] })],
);

/** Messages that could not be processed, kept for operators to inspect, replay or purge. */
export const deadLetters = pgTable(
  'dead_letters',
  {
    id: uuid('id').primaryKey(),
    queue: text('queue').notNull(),
    allocationId: uuid('allocation_id').references(() => allocationRequests.id),
    reason: text('reason').notNull(),
    attempts: integer('attempts').notNull(),
    firstError: text('first_error'),
    lastError: text('last_error'),
    payload: jsonb('payload').notNull(),
    headers: jsonb('headers')
      .notNull()
      .default(sql`'{}'::jsonb`),
    status: text('status').notNull().default('open'),
    createdAt: createdAt(),
    replayedAt: timestamp('replayed_at', { withTimezone: true }),
  },
  (table) => [
    index('dead_letters_status_idx').on(table.status, table.createdAt),
    // The filters of GET /admin/dead-letters and of bulk replay and purge, each newest first.
    index('dead_letters_reason_idx').on(table.reason, table.createdAt, table.id),
    index('dead_letters_queue_idx').on(table.queue, table.createdAt, table.id),
    index('dead_letters_created_idx').on(table.createdAt, table.id),
    index('dead_letters_replayed_idx').on(table.replayedAt),
    index('dead_letters_allocation_idx').on(table.allocationId),
    check('dead_letters_status_known', sql`${table.status} in ('open', 'replayed')`),
  ],
);

/**
 * Orders an OrderCancelled event cancelled, by owner: whatever an order still holds after its
 * cancellation is an inconsistency the consistency check reports (cancelled_order_hold).
 */
export const orderCancellations = pgTable(
  'order_cancellations',
  {
    owner: text('owner').notNull(),
    orderId: text('order_id').notNull(),
    eventId: text('event_id').notNull(),
    cancelledAt: timestamp('cancelled_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.owner, table.orderId] })],
);

/**
 * What the consistency check found wrong (src/domain/consistency.ts), one open finding per kind and
 * subject: seen again it updates last_seen_at, no longer found it is resolved.
 */
export const consistencyFindings = pgTable(
  'consistency_findings',
  {
    id: uuid('id').primaryKey(),
    kind: text('kind').notNull(),
    subjectType: text('subject_type').notNull(),
    subjectId: text('subject_id').notNull(),
    detail: jsonb('detail').notNull(),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull(),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
    /** how it was resolved: no longer found by a check, or repaired by a fix call (and by whom) */
    resolution: text('resolution'),
  },
  (table) => [
    uniqueIndex('consistency_findings_open_subject_key')
      .on(table.kind, table.subjectType, table.subjectId)
      .where(sql`${table.resolvedAt} is null`),
    // the filters of GET /admin/consistency, each newest first
    index('consistency_findings_first_seen_idx').on(table.firstSeenAt, table.id),
    index('consistency_findings_kind_first_seen_idx').on(table.kind, table.firstSeenAt, table.id),
    index('consistency_findings_subject_idx').on(table.subjectType, table.subjectId),
    check('consistency_findings_resolution_given', sql`(${table.resolvedAt} is null) = (${table.resolution} is null)`),
  ],
);
