ALTER TABLE "inventory_items" ADD COLUMN "serial_tracked" boolean DEFAULT false NOT NULL;--> statement-breakpoint
UPDATE "inventory_items" i SET "serial_tracked" = true FROM "products" p WHERE p.id = i.product_id AND p.tracking = 'serial';--> statement-breakpoint
-- A lot's serial_tracked is its product's tracking = 'serial', whoever writes the lot: taken from the
-- product when the lot is created (under a key-share lock, so a tracking change, which locks the
-- product first, is either seen here or sees this lot), and set on every lot of a product whose tracking changes.
CREATE FUNCTION inventory_items_take_tracking() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.serial_tracked := coalesce((SELECT p.tracking = 'serial' FROM products p WHERE p.id = NEW.product_id FOR KEY SHARE), false);
  RETURN NEW;
END;
$$;--> statement-breakpoint
CREATE TRIGGER inventory_items_take_tracking
  BEFORE INSERT OR UPDATE OF product_id, serial_tracked ON inventory_items
  FOR EACH ROW EXECUTE FUNCTION inventory_items_take_tracking();--> statement-breakpoint
CREATE FUNCTION products_pass_tracking_to_lots() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE inventory_items SET serial_tracked = (NEW.tracking = 'serial') WHERE product_id = NEW.id;
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER products_pass_tracking_to_lots
  AFTER UPDATE OF tracking ON products
  FOR EACH ROW WHEN (OLD.tracking IS DISTINCT FROM NEW.tracking) EXECUTE FUNCTION products_pass_tracking_to_lots();--> statement-breakpoint
-- The check of a lot against its units (stock_units_check_lot, 0015) runs only for lots of
-- serial-tracked products: it found nothing to check for any other, but ran at every commit that
-- changed a lot.
DROP TRIGGER "stock_units_match_lot_on_lots" ON "inventory_items";--> statement-breakpoint
CREATE CONSTRAINT TRIGGER stock_units_match_lot_on_lots
  AFTER INSERT OR UPDATE ON inventory_items DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (NEW.serial_tracked) EXECUTE FUNCTION stock_units_check_changed();--> statement-breakpoint
ANALYZE "inventory_items";
