CREATE INDEX "stock_units_warehouse_idx" ON "stock_units" USING btree ("warehouse_id");--> statement-breakpoint
ANALYZE "stock_units";