DROP INDEX "backorder_items_reference_idx";--> statement-breakpoint
DROP INDEX "reservations_order_idx";--> statement-breakpoint
CREATE INDEX "backorder_items_serving_idx" ON "backorder_items" USING btree ("priority" DESC NULLS LAST,"created_at","id");--> statement-breakpoint
CREATE INDEX "backorder_items_status_idx" ON "backorder_items" USING btree ("status","priority" DESC NULLS LAST,"created_at","id");--> statement-breakpoint
CREATE INDEX "backorder_items_product_idx" ON "backorder_items" USING btree ("product_id","priority" DESC NULLS LAST,"created_at","id");--> statement-breakpoint
CREATE INDEX "backorder_items_warehouse_idx" ON "backorder_items" USING btree ("warehouse_id","priority" DESC NULLS LAST,"created_at","id");--> statement-breakpoint
CREATE INDEX "backorder_items_reservation_idx" ON "backorder_items" USING btree ("reservation_id");--> statement-breakpoint
CREATE INDEX "backorder_items_created_idx" ON "backorder_items" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "reservation_lines_product_idx" ON "reservation_lines" USING btree ("product_id","reservation_id");--> statement-breakpoint
CREATE INDEX "reservation_lines_warehouse_idx" ON "reservation_lines" USING btree ("warehouse_id","reservation_id");--> statement-breakpoint
CREATE INDEX "reservations_status_created_idx" ON "reservations" USING btree ("status","created_at","id");--> statement-breakpoint
CREATE INDEX "reservations_created_idx" ON "reservations" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "reservations_expires_idx" ON "reservations" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "backorder_items_reference_idx" ON "backorder_items" USING btree ("reference_id","priority" DESC NULLS LAST,"created_at","id");--> statement-breakpoint
CREATE INDEX "reservations_order_idx" ON "reservations" USING btree ("order_id","created_at","id");