DROP INDEX "allocation_requests_reference_idx";--> statement-breakpoint
ALTER TABLE "allocation_requests" ADD COLUMN "request_id" text;--> statement-breakpoint
CREATE INDEX "allocation_requests_status_created_idx" ON "allocation_requests" USING btree ("status","created_at","id");--> statement-breakpoint
CREATE INDEX "allocation_requests_priority_created_idx" ON "allocation_requests" USING btree ("priority","created_at","id");--> statement-breakpoint
CREATE INDEX "allocation_requests_created_idx" ON "allocation_requests" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "allocation_results_completed_idx" ON "allocation_results" USING btree ("completed_at");--> statement-breakpoint
CREATE INDEX "dead_letters_reason_idx" ON "dead_letters" USING btree ("reason","created_at","id");--> statement-breakpoint
CREATE INDEX "dead_letters_queue_idx" ON "dead_letters" USING btree ("queue","created_at","id");--> statement-breakpoint
CREATE INDEX "dead_letters_created_idx" ON "dead_letters" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "dead_letters_replayed_idx" ON "dead_letters" USING btree ("replayed_at");--> statement-breakpoint
CREATE INDEX "allocation_requests_reference_idx" ON "allocation_requests" USING btree ("reference_id","created_at","id");