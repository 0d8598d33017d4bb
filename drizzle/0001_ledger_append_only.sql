-- The movement ledger is append-only: a correction is a new movement, never an edit.
CREATE FUNCTION inventory_transactions_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'inventory_transactions is append-only (% refused)', TG_OP USING ERRCODE = 'restrict_violation';
END;
$$;--> statement-breakpoint
CREATE TRIGGER inventory_transactions_append_only
  BEFORE UPDATE OR DELETE ON inventory_transactions
  FOR EACH ROW EXECUTE FUNCTION inventory_transactions_refuse_change();--> statement-breakpoint
CREATE TRIGGER inventory_transactions_no_truncate
  BEFORE TRUNCATE ON inventory_transactions
  FOR EACH STATEMENT EXECUTE FUNCTION inventory_transactions_refuse_change();
