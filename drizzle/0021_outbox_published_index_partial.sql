-- The index on published_at held the unpublished rows too (as NULLs), so the relay's claim could read
-- them through it, in a bitmap scan: a bitmap scan never marks the entries of published rows dead,
-- and with autovacuum off every claim read them all again. Retention deletes published rows only.
DROP INDEX "outbox_events_published_idx";--> statement-breakpoint
CREATE INDEX "outbox_events_published_idx" ON "outbox_events" USING btree ("published_at") WHERE "outbox_events"."published_at" is not null;--> statement-breakpoint
ANALYZE "outbox_events";
