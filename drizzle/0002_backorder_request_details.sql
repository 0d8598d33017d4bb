ALTER TABLE "backorder_items" ADD COLUMN "customer_id" text;--> statement-breakpoint
ALTER TABLE "backorder_items" ADD COLUMN "destination_latitude" double precision;--> statement-breakpoint
ALTER TABLE "backorder_items" ADD COLUMN "destination_longitude" double precision;--> statement-breakpoint
ALTER TABLE "backorder_items" ADD COLUMN "reservation_minutes" integer DEFAULT 30 NOT NULL;