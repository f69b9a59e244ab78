-- Issue 14: custom events, outbound/download/404/engagement rollups, goals and funnels.

-- Written only by the insights job (workers/insights/), like `rollups` for pageviews.
CREATE TABLE "event_rollups" (
    "site_id" UUID NOT NULL,
    "granularity" "Granularity" NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "kind" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "source_partition" INTEGER NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 0,
    "visitors" JSONB,
    "sum_visible_ms" BIGINT NOT NULL DEFAULT 0,
    "sum_scroll" BIGINT NOT NULL DEFAULT 0,
    "scroll_samples" INTEGER NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "event_rollups_pkey" PRIMARY KEY ("site_id", "granularity", "bucket", "kind", "value", "source_partition")
);
CREATE INDEX "event_rollups_site_id_granularity_kind_bucket_idx" ON "event_rollups"("site_id", "granularity", "kind", "bucket");
ALTER TABLE "event_rollups" ADD CONSTRAINT "event_rollups_site_id_fkey" FOREIGN KEY ("site_id") REFERENCES "sites"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "goals" (
    "id" UUID NOT NULL,
    "site_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "event_name" TEXT,
    "prop_key" TEXT,
    "prop_value" TEXT,
    "path_pattern" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "goals_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "goals_site_id_idx" ON "goals"("site_id");
ALTER TABLE "goals" ADD CONSTRAINT "goals_site_id_fkey" FOREIGN KEY ("site_id") REFERENCES "sites"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "goal_conversions" (
    "goal_id" UUID NOT NULL,
    "event_id" UUID NOT NULL,
    "site_id" UUID NOT NULL,
    "visitor_id" TEXT NOT NULL,
    "ts" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "goal_conversions_pkey" PRIMARY KEY ("goal_id", "event_id")
);
CREATE INDEX "goal_conversions_site_id_ts_idx" ON "goal_conversions"("site_id", "ts");
ALTER TABLE "goal_conversions" ADD CONSTRAINT "goal_conversions_goal_id_fkey" FOREIGN KEY ("goal_id") REFERENCES "goals"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "funnels" (
    "id" UUID NOT NULL,
    "site_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "steps" JSONB NOT NULL,
    "window_minutes" INTEGER NOT NULL DEFAULT 60,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "funnels_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "funnels_site_id_idx" ON "funnels"("site_id");
ALTER TABLE "funnels" ADD CONSTRAINT "funnels_site_id_fkey" FOREIGN KEY ("site_id") REFERENCES "sites"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "funnel_attempts" (
    "funnel_id" UUID NOT NULL,
    "visitor_id" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "site_id" UUID NOT NULL,
    "steps_reached" INTEGER NOT NULL,
    "step_ms" INTEGER[],
    "closed" BOOLEAN NOT NULL DEFAULT false,
    "source_partition" INTEGER NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "funnel_attempts_pkey" PRIMARY KEY ("funnel_id", "visitor_id", "started_at")
);
CREATE INDEX "funnel_attempts_site_id_funnel_id_started_at_idx" ON "funnel_attempts"("site_id", "funnel_id", "started_at");
ALTER TABLE "funnel_attempts" ADD CONSTRAINT "funnel_attempts_funnel_id_fkey" FOREIGN KEY ("funnel_id") REFERENCES "funnels"("id") ON DELETE CASCADE ON UPDATE CASCADE;
