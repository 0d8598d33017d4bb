-- The relay no longer looks up, for each event it claims, an earlier pending event of its aggregate:
-- on statistics taken once every event was published (a deployment analysed after its seeding), that
-- lookup could be planned as a read of every pending event for every claimed one, and was about one
-- time in three. The claim reads the events it passed over once, by id range through the pending
-- index, and this index has no reader left; an event written costs one index entry less.
DROP INDEX "outbox_events_pending_aggregate_idx";--> statement-breakpoint
ANALYZE "outbox_events";
