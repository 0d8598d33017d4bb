CREATE TABLE "stock_units" (
	"id" uuid PRIMARY KEY NOT NULL,
	"product_id" text NOT NULL,
	"warehouse_id" text NOT NULL,
	"lot_id" uuid NOT NULL,
	"serial_number" text NOT NULL,
	"condition" text DEFAULT 'New' NOT NULL,
	"status" text DEFAULT 'AVAILABLE' NOT NULL,
	"reservation_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stock_units_status_known" CHECK (status in ('AVAILABLE', 'RESERVED', 'SOLD', 'DELIVERED', 'WRITTEN_OFF'))
);
--> statement-breakpoint
CREATE TABLE "unit_status_history" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "unit_status_history_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"unit_id" uuid NOT NULL,
	"from_status" text,
	"to_status" text NOT NULL,
	"reason" text,
	"reference" text,
	"actor" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "products" ADD COLUMN "tracking" text DEFAULT 'lot' NOT NULL;--> statement-breakpoint
ALTER TABLE "stock_units" ADD CONSTRAINT "stock_units_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stock_units" ADD CONSTRAINT "stock_units_warehouse_id_warehouses_id_fk" FOREIGN KEY ("warehouse_id") REFERENCES "public"."warehouses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stock_units" ADD CONSTRAINT "stock_units_lot_id_inventory_items_id_fk" FOREIGN KEY ("lot_id") REFERENCES "public"."inventory_items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stock_units" ADD CONSTRAINT "stock_units_reservation_id_reservations_id_fk" FOREIGN KEY ("reservation_id") REFERENCES "public"."reservations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "unit_status_history" ADD CONSTRAINT "unit_status_history_unit_id_stock_units_id_fk" FOREIGN KEY ("unit_id") REFERENCES "public"."stock_units"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "stock_units_product_serial_key" ON "stock_units" USING btree ("product_id","serial_number");--> statement-breakpoint
CREATE INDEX "stock_units_serial_idx" ON "stock_units" USING btree ("serial_number");--> statement-breakpoint
CREATE INDEX "stock_units_lot_status_idx" ON "stock_units" USING btree ("lot_id","status","serial_number");--> statement-breakpoint
CREATE INDEX "stock_units_reservation_idx" ON "stock_units" USING btree ("reservation_id");--> statement-breakpoint
CREATE INDEX "stock_units_product_status_idx" ON "stock_units" USING btree ("product_id","status","id");--> statement-breakpoint
CREATE INDEX "unit_status_history_unit_idx" ON "unit_status_history" USING btree ("unit_id","id");--> statement-breakpoint
ALTER TABLE "products" ADD CONSTRAINT "products_tracking_known" CHECK (tracking in ('lot', 'serial'));--> statement-breakpoint
-- A serial-tracked lot's quantities are the counts of its units (lotCountsOf, src/domain/units.ts):
-- on hand = Available + Reserved + Sold, reserved = Reserved, allocated = Sold. Checked at commit,
-- so one statement may change a lot and its units in any order; a lot of a lot-tracked product has no units.
CREATE FUNCTION stock_units_check_lot(checked_lot uuid) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  lot record;
  counted record;
BEGIN
  SELECT i.id, i.quantity, i.reserved_quantity, i.allocated_quantity, p.tracking INTO lot
    FROM inventory_items i JOIN products p ON p.id = i.product_id WHERE i.id = checked_lot;
  IF NOT FOUND OR lot.tracking <> 'serial' THEN
    RETURN;
  END IF;
  SELECT count(*)::int AS quantity,
         (count(*) FILTER (WHERE u.status = 'RESERVED'))::int AS reserved,
         (count(*) FILTER (WHERE u.status = 'SOLD'))::int AS allocated
    INTO counted
    FROM stock_units u WHERE u.lot_id = lot.id AND u.status IN ('AVAILABLE', 'RESERVED', 'SOLD');
  IF (counted.quantity, counted.reserved, counted.allocated) IS DISTINCT FROM (lot.quantity, lot.reserved_quantity, lot.allocated_quantity) THEN
    RAISE EXCEPTION 'lot % holds % / % / % (on hand / reserved / allocated) but its units count % / % / %',
      lot.id, lot.quantity, lot.reserved_quantity, lot.allocated_quantity, counted.quantity, counted.reserved, counted.allocated
      USING ERRCODE = 'check_violation', CONSTRAINT = 'stock_units_match_lot';
  END IF;
END;
$$;--> statement-breakpoint
CREATE FUNCTION stock_units_check_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  lot_of_product uuid;
BEGIN
  IF TG_TABLE_NAME = 'stock_units' THEN
    PERFORM stock_units_check_lot(NEW.lot_id);
  ELSIF TG_TABLE_NAME = 'inventory_items' THEN
    PERFORM stock_units_check_lot(NEW.id);
  ELSE
    FOR lot_of_product IN SELECT id FROM inventory_items WHERE product_id = NEW.id LOOP
      PERFORM stock_units_check_lot(lot_of_product);
    END LOOP;
  END IF;
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE CONSTRAINT TRIGGER stock_units_match_lot_on_units
  AFTER INSERT OR UPDATE ON stock_units DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION stock_units_check_changed();--> statement-breakpoint
CREATE CONSTRAINT TRIGGER stock_units_match_lot_on_lots
  AFTER INSERT OR UPDATE ON inventory_items DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION stock_units_check_changed();--> statement-breakpoint
CREATE CONSTRAINT TRIGGER stock_units_match_lot_on_tracking
  AFTER UPDATE OF tracking ON products DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION stock_units_check_changed();--> statement-breakpoint
ANALYZE "products";--> statement-breakpoint
ANALYZE "stock_units";--> statement-breakpoint
ANALYZE "unit_status_history";--> statement-breakpoint
ANALYZE "inventory_items";
