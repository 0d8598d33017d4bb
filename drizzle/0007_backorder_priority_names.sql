CREATE TYPE "public"."request_priority" AS ENUM('low', 'medium', 'high', 'critical');--> statement-breakpoint
-- Backorders kept the queue weight of their request's priority (low 1, medium 5, high 10, critical 20); they keep its name now.
ALTER TABLE "backorder_items" ALTER COLUMN "priority" SET DATA TYPE "public"."request_priority" USING (
  CASE WHEN "priority" >= 20 THEN 'critical'
       WHEN "priority" >= 10 THEN 'high'
       WHEN "priority" >= 5 THEN 'medium'
       ELSE 'low'
  END
)::"public"."request_priority";
