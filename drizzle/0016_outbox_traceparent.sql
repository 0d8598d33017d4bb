ALTER TABLE "outbox_events" ADD COLUMN "traceparent" text;--> statement-breakpoint
ANALYZE "outbox_events";