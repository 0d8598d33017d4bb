-- A product's change of tracking, passed to its lots, moves their version too: every change of a
-- lot then moves its version, so a batch that read its lots before locking them knows from the
-- versions alone whether they changed in between (lockFor with the lots peekLots read).
CREATE OR REPLACE FUNCTION products_pass_tracking_to_lots() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE inventory_items SET serial_tracked = (NEW.tracking = 'serial'), version = version + 1 WHERE product_id = NEW.id;
  RETURN NULL;
END;
$$;
