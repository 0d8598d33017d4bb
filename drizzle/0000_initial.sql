CREATE TABLE "allocation_requests" (
	"id" uuid PRIMARY KEY NOT NULL,
	"idempotency_key" text NOT NULL,
	"request_hash" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"priority" text NOT NULL,
	"mode" text NOT NULL,
	"reference_id" text NOT NULL,
	"reference_type" text NOT NULL,
	"request" jsonb NOT NULL,
	"actor" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"deadline_at" timestamp with time zone,
	"published_at" timestamp with time zone,
	"started_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "allocation_requests_status_known" CHECK ("allocation_requests"."status" in ('queued', 'processing', 'succeeded', 'partial', 'failed', 'dead_lettered'))
);
--> statement-breakpoint
CREATE TABLE "allocation_results" (
	"allocation_id" uuid PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"result" jsonb NOT NULL,
	"reservation_id" uuid,
	"execution_time_ms" integer NOT NULL,
	"completed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "backorder_items" (
	"id" uuid PRIMARY KEY NOT NULL,
	"product_id" text NOT NULL,
	"warehouse_id" text,
	"quantity" integer NOT NULL,
	"fulfilled_quantity" integer DEFAULT 0 NOT NULL,
	"status" text DEFAULT 'OPEN' NOT NULL,
	"mode" text DEFAULT 'reserve' NOT NULL,
	"priority" integer NOT NULL,
	"strategy" text DEFAULT 'fifo' NOT NULL,
	"reservation_id" uuid,
	"allocation_id" uuid,
	"reference_type" text,
	"reference_id" text,
	"actor" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "backorder_items_quantities" CHECK ("backorder_items"."quantity" > 0 and "backorder_items"."fulfilled_quantity" between 0 and "backorder_items"."quantity"),
	CONSTRAINT "backorder_items_status_known" CHECK ("backorder_items"."status" in ('OPEN', 'FULFILLED', 'CANCELLED'))
);
--> statement-breakpoint
CREATE TABLE "dead_letters" (
	"id" uuid PRIMARY KEY NOT NULL,
	"queue" text NOT NULL,
	"allocation_id" uuid,
	"reason" text NOT NULL,
	"attempts" integer NOT NULL,
	"first_error" text,
	"last_error" text,
	"payload" jsonb NOT NULL,
	"headers" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"replayed_at" timestamp with time zone,
	CONSTRAINT "dead_letters_status_known" CHECK ("dead_letters"."status" in ('open', 'replayed'))
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"scope" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"response_status" integer NOT NULL,
	"response_body" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_scope_key_pk" PRIMARY KEY("scope","key")
);
--> statement-breakpoint
CREATE TABLE "inventory_items" (
	"id" uuid PRIMARY KEY NOT NULL,
	"product_id" text NOT NULL,
	"warehouse_id" text NOT NULL,
	"bin_location" text,
	"lot_number" text,
	"quantity" integer NOT NULL,
	"reserved_quantity" integer DEFAULT 0 NOT NULL,
	"allocated_quantity" integer DEFAULT 0 NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone,
	"unit_cost" numeric(14, 4),
	"version" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inventory_items_quantity_nonnegative" CHECK ("inventory_items"."quantity" >= 0),
	CONSTRAINT "inventory_items_reserved_nonnegative" CHECK ("inventory_items"."reserved_quantity" >= 0),
	CONSTRAINT "inventory_items_allocated_nonnegative" CHECK ("inventory_items"."allocated_quantity" >= 0),
	CONSTRAINT "inventory_items_available_nonnegative" CHECK ("inventory_items"."reserved_quantity" + "inventory_items"."allocated_quantity" <= "inventory_items"."quantity"),
	CONSTRAINT "inventory_items_unit_cost_nonnegative" CHECK ("inventory_items"."unit_cost" >= 0)
);
--> statement-breakpoint
CREATE TABLE "inventory_transactions" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "inventory_transactions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"lot_id" uuid NOT NULL,
	"product_id" text NOT NULL,
	"warehouse_id" text NOT NULL,
	"type" text NOT NULL,
	"quantity_delta" integer DEFAULT 0 NOT NULL,
	"reserved_delta" integer DEFAULT 0 NOT NULL,
	"allocated_delta" integer DEFAULT 0 NOT NULL,
	"quantity_after" integer NOT NULL,
	"reserved_after" integer NOT NULL,
	"allocated_after" integer NOT NULL,
	"reason" text,
	"reference_type" text,
	"reference_id" text,
	"actor" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbox_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "outbox_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"event_id" uuid NOT NULL,
	"event_type" text NOT NULL,
	"routing_key" text NOT NULL,
	"aggregate_type" text NOT NULL,
	"aggregate_id" text NOT NULL,
	"payload" jsonb NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"available_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "processed_events" (
	"consumer" text NOT NULL,
	"event_id" text NOT NULL,
	"event_type" text NOT NULL,
	"processed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "processed_events_consumer_event_id_pk" PRIMARY KEY("consumer","event_id")
);
--> statement-breakpoint
CREATE TABLE "products" (
	"id" text PRIMARY KEY NOT NULL,
	"sku" text NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reservation_lines" (
	"id" uuid PRIMARY KEY NOT NULL,
	"reservation_id" uuid NOT NULL,
	"lot_id" uuid NOT NULL,
	"product_id" text NOT NULL,
	"warehouse_id" text NOT NULL,
	"quantity" integer NOT NULL,
	"allocated_quantity" integer DEFAULT 0 NOT NULL,
	"shipped_quantity" integer DEFAULT 0 NOT NULL,
	"released_quantity" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "reservation_lines_quantity_positive" CHECK ("reservation_lines"."quantity" > 0),
	CONSTRAINT "reservation_lines_parts_fit" CHECK ("reservation_lines"."allocated_quantity" >= 0 and "reservation_lines"."shipped_quantity" >= 0 and "reservation_lines"."released_quantity" >= 0 and "reservation_lines"."shipped_quantity" <= "reservation_lines"."allocated_quantity" and "reservation_lines"."allocated_quantity" + "reservation_lines"."released_quantity" <= "reservation_lines"."quantity")
);
--> statement-breakpoint
CREATE TABLE "reservation_status_history" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "reservation_status_history_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"reservation_id" uuid NOT NULL,
	"from_status" text,
	"to_status" text NOT NULL,
	"reason" text,
	"reference" text,
	"actor" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reservations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"order_id" text NOT NULL,
	"customer_id" text,
	"status" text NOT NULL,
	"priority" text DEFAULT 'medium' NOT NULL,
	"strategy" text DEFAULT 'fifo' NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"version" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reservations_status_known" CHECK ("reservations"."status" in ('RESERVED', 'ALLOCATED', 'FULFILLED', 'RELEASED', 'EXPIRED'))
);
--> statement-breakpoint
CREATE TABLE "stock_settings" (
	"product_id" text NOT NULL,
	"warehouse_id" text NOT NULL,
	"reorder_point" integer DEFAULT 0 NOT NULL,
	"reorder_quantity" integer DEFAULT 0 NOT NULL,
	"min_stock_level" integer DEFAULT 0 NOT NULL,
	"max_stock_level" integer,
	"zone" text,
	"aisle" text,
	"shelf" text,
	"low_stock_alerted" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stock_settings_product_id_warehouse_id_pk" PRIMARY KEY("product_id","warehouse_id"),
	CONSTRAINT "stock_settings_levels_nonnegative" CHECK ("stock_settings"."reorder_point" >= 0 and "stock_settings"."reorder_quantity" >= 0 and "stock_settings"."min_stock_level" >= 0),
	CONSTRAINT "stock_settings_max_over_min" CHECK ("stock_settings"."max_stock_level" is null or "stock_settings"."max_stock_level" >= "stock_settings"."min_stock_level")
);
--> statement-breakpoint
CREATE TABLE "transfer_lines" (
	"id" uuid PRIMARY KEY NOT NULL,
	"transfer_id" uuid NOT NULL,
	"product_id" text NOT NULL,
	"source_lot_id" uuid NOT NULL,
	"destination_lot_id" uuid,
	"quantity" integer NOT NULL,
	"lot_number" text,
	"unit_cost" numeric(14, 4),
	"received_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone,
	CONSTRAINT "transfer_lines_quantity_positive" CHECK ("transfer_lines"."quantity" > 0)
);
--> statement-breakpoint
CREATE TABLE "transfers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"from_warehouse_id" text NOT NULL,
	"to_warehouse_id" text NOT NULL,
	"status" text DEFAULT 'IN_TRANSIT' NOT NULL,
	"reference" text,
	"actor" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"received_at" timestamp with time zone,
	CONSTRAINT "transfers_status_known" CHECK ("transfers"."status" in ('IN_TRANSIT', 'RECEIVED')),
	CONSTRAINT "transfers_distinct_warehouses" CHECK ("transfers"."from_warehouse_id" <> "transfers"."to_warehouse_id")
);
--> statement-breakpoint
CREATE TABLE "warehouses" (
	"id" text PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"type" text DEFAULT 'DISTRIBUTION_CENTER' NOT NULL,
	"priority" integer DEFAULT 0 NOT NULL,
	"latitude" double precision,
	"longitude" double precision,
	"premium" boolean DEFAULT false NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "warehouses_latitude_range" CHECK ("warehouses"."latitude" between -90 and 90),
	CONSTRAINT "warehouses_longitude_range" CHECK ("warehouses"."longitude" between -180 and 180)
);
--> statement-breakpoint
ALTER TABLE "allocation_results" ADD CONSTRAINT "allocation_results_allocation_id_allocation_requests_id_fk" FOREIGN KEY ("allocation_id") REFERENCES "public"."allocation_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "allocation_results" ADD CONSTRAINT "allocation_results_reservation_id_reservations_id_fk" FOREIGN KEY ("reservation_id") REFERENCES "public"."reservations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backorder_items" ADD CONSTRAINT "backorder_items_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backorder_items" ADD CONSTRAINT "backorder_items_warehouse_id_warehouses_id_fk" FOREIGN KEY ("warehouse_id") REFERENCES "public"."warehouses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backorder_items" ADD CONSTRAINT "backorder_items_reservation_id_reservations_id_fk" FOREIGN KEY ("reservation_id") REFERENCES "public"."reservations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backorder_items" ADD CONSTRAINT "backorder_items_allocation_id_allocation_requests_id_fk" FOREIGN KEY ("allocation_id") REFERENCES "public"."allocation_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dead_letters" ADD CONSTRAINT "dead_letters_allocation_id_allocation_requests_id_fk" FOREIGN KEY ("allocation_id") REFERENCES "public"."allocation_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory_items" ADD CONSTRAINT "inventory_items_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory_items" ADD CONSTRAINT "inventory_items_warehouse_id_warehouses_id_fk" FOREIGN KEY ("warehouse_id") REFERENCES "public"."warehouses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory_transactions" ADD CONSTRAINT "inventory_transactions_lot_id_inventory_items_id_fk" FOREIGN KEY ("lot_id") REFERENCES "public"."inventory_items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reservation_lines" ADD CONSTRAINT "reservation_lines_reservation_id_reservations_id_fk" FOREIGN KEY ("reservation_id") REFERENCES "public"."reservations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reservation_lines" ADD CONSTRAINT "reservation_lines_lot_id_inventory_items_id_fk" FOREIGN KEY ("lot_id") REFERENCES "public"."inventory_items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reservation_status_history" ADD CONSTRAINT "reservation_status_history_reservation_id_reservations_id_fk" FOREIGN KEY ("reservation_id") REFERENCES "public"."reservations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stock_settings" ADD CONSTRAINT "stock_settings_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stock_settings" ADD CONSTRAINT "stock_settings_warehouse_id_warehouses_id_fk" FOREIGN KEY ("warehouse_id") REFERENCES "public"."warehouses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfer_lines" ADD CONSTRAINT "transfer_lines_transfer_id_transfers_id_fk" FOREIGN KEY ("transfer_id") REFERENCES "public"."transfers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfer_lines" ADD CONSTRAINT "transfer_lines_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfer_lines" ADD CONSTRAINT "transfer_lines_source_lot_id_inventory_items_id_fk" FOREIGN KEY ("source_lot_id") REFERENCES "public"."inventory_items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfer_lines" ADD CONSTRAINT "transfer_lines_destination_lot_id_inventory_items_id_fk" FOREIGN KEY ("destination_lot_id") REFERENCES "public"."inventory_items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_from_warehouse_id_warehouses_id_fk" FOREIGN KEY ("from_warehouse_id") REFERENCES "public"."warehouses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_to_warehouse_id_warehouses_id_fk" FOREIGN KEY ("to_warehouse_id") REFERENCES "public"."warehouses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "allocation_requests_idempotency_key" ON "allocation_requests" USING btree ("actor","idempotency_key");--> statement-breakpoint
CREATE INDEX "allocation_requests_reference_idx" ON "allocation_requests" USING btree ("reference_id");--> statement-breakpoint
CREATE INDEX "allocation_requests_unpublished_idx" ON "allocation_requests" USING btree ("created_at") WHERE "allocation_requests"."published_at" is null;--> statement-breakpoint
CREATE INDEX "backorder_items_open_idx" ON "backorder_items" USING btree ("product_id","priority" DESC NULLS LAST,"created_at") WHERE "backorder_items"."status" = 'OPEN';--> statement-breakpoint
CREATE INDEX "backorder_items_reference_idx" ON "backorder_items" USING btree ("reference_id");--> statement-breakpoint
CREATE INDEX "dead_letters_status_idx" ON "dead_letters" USING btree ("status","created_at");--> statement-breakpoint
CREATE INDEX "inventory_items_product_warehouse_idx" ON "inventory_items" USING btree ("product_id","warehouse_id");--> statement-breakpoint
CREATE INDEX "inventory_items_warehouse_idx" ON "inventory_items" USING btree ("warehouse_id");--> statement-breakpoint
CREATE INDEX "inventory_transactions_product_time_idx" ON "inventory_transactions" USING btree ("product_id","created_at");--> statement-breakpoint
CREATE INDEX "inventory_transactions_lot_idx" ON "inventory_transactions" USING btree ("lot_id");--> statement-breakpoint
CREATE INDEX "inventory_transactions_reference_idx" ON "inventory_transactions" USING btree ("reference_type","reference_id");--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_events_event_id_key" ON "outbox_events" USING btree ("event_id");--> statement-breakpoint
CREATE INDEX "outbox_events_pending_idx" ON "outbox_events" USING btree ("id") WHERE "outbox_events"."published_at" is null;--> statement-breakpoint
CREATE INDEX "outbox_events_published_idx" ON "outbox_events" USING btree ("published_at");--> statement-breakpoint
CREATE UNIQUE INDEX "products_sku_key" ON "products" USING btree ("sku");--> statement-breakpoint
CREATE INDEX "reservation_lines_reservation_idx" ON "reservation_lines" USING btree ("reservation_id");--> statement-breakpoint
CREATE INDEX "reservation_lines_lot_idx" ON "reservation_lines" USING btree ("lot_id");--> statement-breakpoint
CREATE INDEX "reservation_status_history_reservation_idx" ON "reservation_status_history" USING btree ("reservation_id");--> statement-breakpoint
CREATE INDEX "reservations_status_expiry_idx" ON "reservations" USING btree ("status","expires_at");--> statement-breakpoint
CREATE INDEX "reservations_order_idx" ON "reservations" USING btree ("order_id");--> statement-breakpoint
CREATE INDEX "stock_settings_warehouse_idx" ON "stock_settings" USING btree ("warehouse_id");--> statement-breakpoint
CREATE INDEX "transfer_lines_transfer_idx" ON "transfer_lines" USING btree ("transfer_id");--> statement-breakpoint
CREATE INDEX "transfers_status_idx" ON "transfers" USING btree ("status");--> statement-breakpoint
CREATE UNIQUE INDEX "warehouses_code_key" ON "warehouses" USING btree ("code");