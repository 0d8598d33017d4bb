-- Every reservation, backorder and allocation job belongs to an owner (src/domain/ownership.ts).
-- Rows from before get the caller that made them, which is the owner the rule gives a token
-- without a `tenant` claim: a job or backorder its actor, a reservation the actor of the backorder
-- it holds units for or else of its first history row (order events' rows: `order-events`).
ALTER TABLE "allocation_requests" ADD COLUMN "owner" text;--> statement-breakpoint
UPDATE "allocation_requests" SET "owner" = "actor";--> statement-breakpoint
ALTER TABLE "allocation_requests" ALTER COLUMN "owner" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "backorder_items" ADD COLUMN "owner" text;--> statement-breakpoint
UPDATE "backorder_items" SET "owner" = "actor";--> statement-breakpoint
ALTER TABLE "backorder_items" ALTER COLUMN "owner" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "reservations" ADD COLUMN "owner" text;--> statement-breakpoint
UPDATE "reservations" r SET "owner" = coalesce(
  (SELECT b."actor" FROM "backorder_items" b WHERE b."reservation_id" = r."id" ORDER BY b."created_at", b."id" LIMIT 1),
  (SELECT h."actor" FROM "reservation_status_history" h WHERE h."reservation_id" = r."id" ORDER BY h."id" LIMIT 1),
  'order-events');--> statement-breakpoint
ALTER TABLE "reservations" ALTER COLUMN "owner" SET NOT NULL;--> statement-breakpoint
DROP INDEX "allocation_requests_idempotency_key";--> statement-breakpoint
CREATE UNIQUE INDEX "allocation_requests_owner_idempotency_key" ON "allocation_requests" USING btree ("owner","idempotency_key");--> statement-breakpoint
CREATE INDEX "allocation_requests_owner_created_idx" ON "allocation_requests" USING btree ("owner","created_at","id");--> statement-breakpoint
CREATE INDEX "backorder_items_owner_serving_idx" ON "backorder_items" USING btree ("owner","priority" DESC NULLS LAST,"created_at","id");--> statement-breakpoint
CREATE INDEX "reservations_owner_created_idx" ON "reservations" USING btree ("owner","created_at","id");--> statement-breakpoint
ANALYZE "allocation_requests";--> statement-breakpoint
ANALYZE "backorder_items";--> statement-breakpoint
ANALYZE "reservations";
