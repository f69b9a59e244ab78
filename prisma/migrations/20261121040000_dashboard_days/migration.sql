-- Daily rollups merged across source partitions for settled days (the dashboard's long ranges).

-- CreateTable
CREATE TABLE "rollup_days" (
    "site_id" UUID NOT NULL,
    "dimension" TEXT NOT NULL,
    "day" TIMESTAMPTZ(3) NOT NULL,
    "value" TEXT NOT NULL,
    "pageviews" INTEGER NOT NULL DEFAULT 0,
    "events" INTEGER NOT NULL DEFAULT 0,
    "sessions" INTEGER NOT NULL DEFAULT 0,
    "bounces" INTEGER NOT NULL DEFAULT 0,
    "duration_ms" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "rollup_days_pkey" PRIMARY KEY ("site_id","dimension","day","value")
);

-- CreateTable
CREATE TABLE "rollup_day_sketches" (
    "site_id" UUID NOT NULL,
    "dimension" TEXT NOT NULL,
    "day" TIMESTAMPTZ(3) NOT NULL,
    "value" TEXT NOT NULL,
    "visitors" JSONB NOT NULL,

    CONSTRAINT "rollup_day_sketches_pkey" PRIMARY KEY ("site_id","dimension","day","value")
);

-- CreateTable
CREATE TABLE "rollup_day_versions" (
    "site_id" UUID NOT NULL,
    "day" TIMESTAMPTZ(3) NOT NULL,
    "source_updated_at" TIMESTAMPTZ(3) NOT NULL,
    "built_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "rollup_day_versions_pkey" PRIMARY KEY ("site_id","day")
);
