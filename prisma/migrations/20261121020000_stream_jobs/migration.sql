-- CreateEnum
CREATE TYPE "Granularity" AS ENUM ('minute', 'hour', 'day');

-- AlterTable
ALTER TABLE "sites" ADD COLUMN "session_gap_minutes" INTEGER NOT NULL DEFAULT 30,
ADD COLUMN "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- CreateTable
CREATE TABLE "content_groups" (
    "id" UUID NOT NULL,
    "site_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "pattern" TEXT NOT NULL,
    "position" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "content_groups_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "content_groups_site_id_idx" ON "content_groups"("site_id");
ALTER TABLE "content_groups" ADD CONSTRAINT "content_groups_site_id_fkey" FOREIGN KEY ("site_id") REFERENCES "sites"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CreateTable
CREATE TABLE "rollups" (
    "site_id" UUID NOT NULL,
    "granularity" "Granularity" NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "dimension" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "source_partition" INTEGER NOT NULL,
    "pageviews" INTEGER NOT NULL DEFAULT 0,
    "events" INTEGER NOT NULL DEFAULT 0,
    "visitors" JSONB,
    "sessions" INTEGER NOT NULL DEFAULT 0,
    "bounces" INTEGER NOT NULL DEFAULT 0,
    "duration_ms" BIGINT NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "rollups_pkey" PRIMARY KEY ("site_id","granularity","bucket","dimension","value","source_partition")
);
CREATE INDEX "rollups_site_id_granularity_dimension_bucket_idx" ON "rollups"("site_id", "granularity", "dimension", "bucket");

-- The slice's per-minute totals become partition-0 totals rows.
INSERT INTO "rollups" ("site_id", "granularity", "bucket", "dimension", "value", "source_partition", "pageviews", "events")
SELECT "site_id", 'minute', "minute", '', '', 0, "pageviews", "events" FROM "rollups_minute";
DROP TABLE "rollups_minute";

-- CreateTable
CREATE TABLE "sessions" (
    "site_id" UUID NOT NULL,
    "visitor_id" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "ended_at" TIMESTAMPTZ(3) NOT NULL,
    "duration_ms" INTEGER NOT NULL,
    "pageviews" INTEGER NOT NULL,
    "events" INTEGER NOT NULL,
    "engaged_ms" INTEGER NOT NULL DEFAULT 0,
    "entry_path" TEXT NOT NULL,
    "exit_path" TEXT NOT NULL,
    "bounce" BOOLEAN NOT NULL,
    "channel" TEXT NOT NULL,
    "referrer_host" TEXT,
    "utm_source" TEXT,
    "utm_medium" TEXT,
    "utm_campaign" TEXT,
    "device" TEXT NOT NULL,
    "browser" TEXT NOT NULL,
    "os" TEXT NOT NULL,
    "country" TEXT,
    "source_partition" INTEGER NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sessions_pkey" PRIMARY KEY ("site_id","visitor_id","started_at")
);
CREATE INDEX "sessions_site_id_started_at_idx" ON "sessions"("site_id", "started_at");

-- CreateTable
CREATE TABLE "peak_windows" (
    "site_id" UUID NOT NULL,
    "day" DATE NOT NULL,
    "content_group" TEXT NOT NULL,
    "window_size_minutes" INTEGER NOT NULL,
    "window_start" TIMESTAMPTZ(3) NOT NULL,
    "window_end" TIMESTAMPTZ(3) NOT NULL,
    "pageviews" INTEGER NOT NULL,
    "visitors" INTEGER NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "peak_windows_pkey" PRIMARY KEY ("site_id","day","content_group","window_size_minutes")
);

-- CreateTable
CREATE TABLE "minute_partials" (
    "id" BIGSERIAL NOT NULL,
    "site_id" UUID NOT NULL,
    "content_group" TEXT NOT NULL,
    "minute" TIMESTAMPTZ(3) NOT NULL,
    "source_partition" INTEGER NOT NULL,
    "pageviews_delta" INTEGER NOT NULL,
    "visitors" JSONB,

    CONSTRAINT "minute_partials_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "late_events" (
    "event_id" UUID NOT NULL,
    "site_id" UUID NOT NULL,
    "ts" TIMESTAMPTZ(3) NOT NULL,
    "record" JSONB NOT NULL,
    "job" TEXT NOT NULL,
    "watermark" BIGINT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "reconciled_at" TIMESTAMPTZ(3),

    CONSTRAINT "late_events_pkey" PRIMARY KEY ("event_id")
);
CREATE INDEX "late_events_reconciled_at_idx" ON "late_events"("reconciled_at");

-- CreateTable
CREATE TABLE "dead_letters" (
    "id" BIGSERIAL NOT NULL,
    "job" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "partition" INTEGER NOT NULL,
    "offset" BIGINT NOT NULL,
    "key" BYTEA,
    "value" BYTEA,
    "reason" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "dead_letters_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "dead_letters_job_topic_partition_offset_key" ON "dead_letters"("job", "topic", "partition", "offset");

-- Dedup keys, split from the archive: a partitioned table cannot enforce a unique event id.
CREATE TABLE "event_ids" (
    "job" TEXT NOT NULL,
    "event_id" UUID NOT NULL,
    "seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "event_ids_pkey" PRIMARY KEY ("job","event_id")
);

-- The archive becomes range-partitioned by day; existing rows move into it.
ALTER TABLE "events" RENAME TO "events_before_partitioning";
ALTER TABLE "events_before_partitioning" RENAME CONSTRAINT "events_pkey" TO "events_before_partitioning_pkey";
ALTER INDEX "events_site_id_ts_idx" RENAME TO "events_before_partitioning_site_id_ts_idx";
ALTER INDEX "events_site_id_visitor_id_ts_idx" RENAME TO "events_before_partitioning_site_id_visitor_id_ts_idx";
CREATE TABLE "events" (
    "event_id" UUID NOT NULL,
    "site_id" UUID NOT NULL,
    "visitor_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "ts" TIMESTAMPTZ(3) NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "record" JSONB NOT NULL,

    CONSTRAINT "events_pkey" PRIMARY KEY ("event_id","ts")
) PARTITION BY RANGE ("ts");
CREATE TABLE "events_default" PARTITION OF "events" DEFAULT;
CREATE INDEX "events_site_id_ts_idx" ON "events"("site_id", "ts");
CREATE INDEX "events_site_id_visitor_id_ts_idx" ON "events"("site_id", "visitor_id", "ts");
INSERT INTO "events" ("event_id", "site_id", "visitor_id", "name", "url", "ts", "received_at", "record")
SELECT "event_id", "site_id", "visitor_id", "name", "url", "ts", "received_at",
       jsonb_build_object('v', 1, 'eventId', "event_id", 'siteId', "site_id", 'visitorId', "visitor_id", 'name', "name", 'url', "url", 'ts', (extract(epoch from "ts") * 1000)::bigint)
FROM "events_before_partitioning";
INSERT INTO "event_ids" ("job", "event_id", "seen_at") SELECT 'rollups', "event_id", "received_at" FROM "events_before_partitioning";
DROP TABLE "events_before_partitioning";
