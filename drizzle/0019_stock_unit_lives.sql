-- A serial number delivered or written off may come back by a return: a new unit, its next life
-- (src/domain/units.ts comingIn). (product, serial number) stays unique among units in stock, and
-- per life; the latest life is the serial number's current unit.
ALTER TABLE "stock_units" ADD COLUMN "life" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "stock_units" ADD COLUMN "previous_unit_id" uuid;--> statement-breakpoint
ALTER TABLE "stock_units" ADD CONSTRAINT "stock_units_previous_unit_id_stock_units_id_fk" FOREIGN KEY ("previous_unit_id") REFERENCES "public"."stock_units"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "stock_units_product_serial_life_key" ON "stock_units" USING btree ("product_id","serial_number","life");--> statement-breakpoint
CREATE UNIQUE INDEX "stock_units_product_serial_in_stock_key" ON "stock_units" USING btree ("product_id","serial_number") WHERE status in ('AVAILABLE', 'RESERVED', 'SOLD');--> statement-breakpoint
CREATE INDEX "stock_units_previous_unit_idx" ON "stock_units" USING btree ("previous_unit_id");--> statement-breakpoint
DROP INDEX "stock_units_product_serial_key";--> statement-breakpoint
ANALYZE "stock_units";
