ALTER TABLE "products" ADD COLUMN "status" text DEFAULT 'ACTIVE' NOT NULL;--> statement-breakpoint
ALTER TABLE "warehouses" ADD COLUMN "address" jsonb;--> statement-breakpoint
CREATE INDEX "products_discontinued_idx" ON "products" USING btree ("id") WHERE "products"."status" = 'DISCONTINUED';--> statement-breakpoint
ALTER TABLE "products" ADD CONSTRAINT "products_status_known" CHECK ("products"."status" in ('ACTIVE', 'DISCONTINUED'));--> statement-breakpoint
ANALYZE "products";--> statement-breakpoint
ANALYZE "warehouses";
