ALTER TABLE "reservation_lines" DROP CONSTRAINT "reservation_lines_parts_fit";--> statement-breakpoint
ALTER TABLE "reservation_lines" ADD COLUMN "moved_quantity" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "reservation_lines" ADD CONSTRAINT "reservation_lines_parts_fit" CHECK ("reservation_lines"."allocated_quantity" >= 0 and "reservation_lines"."shipped_quantity" >= 0 and "reservation_lines"."released_quantity" >= 0 and "reservation_lines"."moved_quantity" >= 0 and "reservation_lines"."shipped_quantity" <= "reservation_lines"."allocated_quantity" and "reservation_lines"."allocated_quantity" + "reservation_lines"."released_quantity" + "reservation_lines"."moved_quantity" <= "reservation_lines"."quantity");--> statement-breakpoint
ANALYZE "reservation_lines";
