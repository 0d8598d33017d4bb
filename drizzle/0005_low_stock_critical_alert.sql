ALTER TABLE "stock_settings" ADD COLUMN "critical_stock_alerted" boolean DEFAULT false NOT NULL;--> statement-breakpoint
-- Pairs already alerted and CRITICAL now have had that alert: do not send it again after the upgrade.
UPDATE "stock_settings" s SET "critical_stock_alerted" = true
 WHERE s."low_stock_alerted"
   AND (SELECT coalesce(sum(i."quantity" - i."reserved_quantity" - i."allocated_quantity")
                          FILTER (WHERE i."expires_at" IS NULL OR i."expires_at" > now()), 0)
          FROM "inventory_items" i
         WHERE i."product_id" = s."product_id" AND i."warehouse_id" = s."warehouse_id") < greatest(s."min_stock_level", 1);
