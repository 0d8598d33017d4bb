CREATE TABLE "consistency_findings" (
	"id" uuid PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"subject_type" text NOT NULL,
	"subject_id" text NOT NULL,
	"detail" jsonb NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"resolved_at" timestamp with time zone,
	"resolution" text,
	CONSTRAINT "consistency_findings_resolution_given" CHECK (("consistency_findings"."resolved_at" is null) = ("consistency_findings"."resolution" is null))
);
--> statement-breakpoint
CREATE TABLE "order_cancellations" (
	"owner" text NOT NULL,
	"order_id" text NOT NULL,
	"event_id" text NOT NULL,
	"cancelled_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "order_cancellations_owner_order_id_pk" PRIMARY KEY("owner","order_id")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "consistency_findings_open_subject_key" ON "consistency_findings" USING btree ("kind","subject_type","subject_id") WHERE "consistency_findings"."resolved_at" is null;--> statement-breakpoint
CREATE INDEX "consistency_findings_first_seen_idx" ON "consistency_findings" USING btree ("first_seen_at","id");--> statement-breakpoint
CREATE INDEX "consistency_findings_kind_first_seen_idx" ON "consistency_findings" USING btree ("kind","first_seen_at","id");--> statement-breakpoint
CREATE INDEX "consistency_findings_subject_idx" ON "consistency_findings" USING btree ("subject_type","subject_id");--> statement-breakpoint
ANALYZE "consistency_findings";--> statement-breakpoint
ANALYZE "order_cancellations";