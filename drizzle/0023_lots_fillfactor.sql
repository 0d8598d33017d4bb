-- Every movement updates its lot in place. With room left on the lot's page the update is HOT: the
-- new version stays on the page and none of the lot's three indexes gets an entry; a full page sends
-- it to another page with an entry in each index — about two lots a job on spread load, and index
-- entries a batch's lot read then passes over. Pages written from here on are half filled; a full
-- page of an existing table keeps its rows until they move by an update.
ALTER TABLE "inventory_items" SET (fillfactor = 50);--> statement-breakpoint
ANALYZE "inventory_items";
