CREATE TABLE "transfer_items" (
	"transfer_id" uuid NOT NULL,
	"product_id" text NOT NULL,
	"quantity" integer NOT NULL,
	"source_quantity_before" integer,
	"source_quantity_after" integer,
	"destination_quantity_expected" integer,
	CONSTRAINT "transfer_items_transfer_id_product_id_pk" PRIMARY KEY("transfer_id","product_id")
);
--> statement-breakpoint
ALTER TABLE "transfers" DROP CONSTRAINT "transfers_status_known";--> statement-breakpoint
DROP INDEX "transfers_status_idx";--> statement-breakpoint
ALTER TABLE "transfer_lines" ADD COLUMN "received_quantity" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "transfer_lines" ADD COLUMN "short_quantity" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "transfer_lines" ADD COLUMN "returned_quantity" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "transfers" ADD COLUMN "reason" text;--> statement-breakpoint
ALTER TABLE "transfers" ADD COLUMN "expected_delivery" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "transfers" ADD COLUMN "cancelled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "transfers" ADD COLUMN "cancel_reason" text;--> statement-breakpoint
ALTER TABLE "transfers" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "transfer_items" ADD CONSTRAINT "transfer_items_transfer_id_transfers_id_fk" FOREIGN KEY ("transfer_id") REFERENCES "public"."transfers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfer_items" ADD CONSTRAINT "transfer_items_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "transfer_items_product_idx" ON "transfer_items" USING btree ("product_id","transfer_id");--> statement-breakpoint
CREATE INDEX "transfers_from_idx" ON "transfers" USING btree ("from_warehouse_id","created_at","id");--> statement-breakpoint
CREATE INDEX "transfers_to_idx" ON "transfers" USING btree ("to_warehouse_id","created_at","id");--> statement-breakpoint
CREATE INDEX "transfers_created_idx" ON "transfers" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "transfers_status_idx" ON "transfers" USING btree ("status","created_at","id");--> statement-breakpoint
ALTER TABLE "transfer_lines" ADD CONSTRAINT "transfer_lines_parts_fit" CHECK ("transfer_lines"."received_quantity" >= 0 and "transfer_lines"."short_quantity" >= 0 and "transfer_lines"."returned_quantity" >= 0 and "transfer_lines"."received_quantity" + "transfer_lines"."short_quantity" + "transfer_lines"."returned_quantity" <= "transfer_lines"."quantity");--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_status_known" CHECK ("transfers"."status" in ('IN_TRANSIT', 'PARTIALLY_RECEIVED', 'RECEIVED', 'CANCELLED'));--> statement-breakpoint
-- Transfers sent before: a received one arrived whole; each product's quantity is kept, its stock figures are not known.
UPDATE "transfer_lines" l SET "received_quantity" = l."quantity" FROM "transfers" t WHERE t."id" = l."transfer_id" AND t."status" = 'RECEIVED';--> statement-breakpoint
UPDATE "transfers" SET "updated_at" = coalesce("received_at", "created_at");--> statement-breakpoint
INSERT INTO "transfer_items" ("transfer_id", "product_id", "quantity")
SELECT "transfer_id", "product_id", sum("quantity")::int FROM "transfer_lines" GROUP BY "transfer_id", "product_id";
