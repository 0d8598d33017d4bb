CREATE INDEX "allocation_results_reservation_idx" ON "allocation_results" USING btree ("reservation_id");--> statement-breakpoint
CREATE INDEX "backorder_items_allocation_idx" ON "backorder_items" USING btree ("allocation_id");--> statement-breakpoint
CREATE INDEX "dead_letters_allocation_idx" ON "dead_letters" USING btree ("allocation_id");--> statement-breakpoint
CREATE INDEX "transfer_lines_product_idx" ON "transfer_lines" USING btree ("product_id");--> statement-breakpoint
CREATE INDEX "transfer_lines_source_lot_idx" ON "transfer_lines" USING btree ("source_lot_id");--> statement-breakpoint
CREATE INDEX "transfer_lines_destination_lot_idx" ON "transfer_lines" USING btree ("destination_lot_id");--> statement-breakpoint
ANALYZE "allocation_results";--> statement-breakpoint
ANALYZE "backorder_items";--> statement-breakpoint
ANALYZE "dead_letters";--> statement-breakpoint
ANALYZE "transfer_lines";
