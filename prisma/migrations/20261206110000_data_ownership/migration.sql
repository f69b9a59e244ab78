-- Issue 16: customers own their data (retention, export, deletion).

-- How long a site's raw events (the archive) and visit rows are kept; NULL = forever.
-- 760 days (25 months, the CNIL's bound for audience-measurement data) unless the owner changes it.
ALTER TABLE "sites" ADD COLUMN "retention_days" INTEGER DEFAULT 760;

-- Sites deleted recently, by SHA-256 of the id (never the id itself: nothing may keep a deleted
-- site's id). The stream jobs drop records of these sites that were still in the bus when the
-- site was deleted. Kept as long as the bus may still hold such records (lib/sites/site-data.ts).
CREATE TABLE "deleted_sites" (
    "site_hash" BYTEA NOT NULL,
    "deleted_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "deleted_sites_pkey" PRIMARY KEY ("site_hash")
);

-- The raw archive's size per site, measured by the retention job (workers/retention): the
-- pipeline page reads it instead of scanning the archive on every load.
CREATE TABLE "site_archive_stats" (
    "site_id" UUID NOT NULL,
    "rows" BIGINT NOT NULL,
    "bytes" BIGINT NOT NULL,
    "oldest" TIMESTAMPTZ(3),
    "measured_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "site_archive_stats_pkey" PRIMARY KEY ("site_id")
);

-- Exports prepared in the background (lib/exports/background.ts): the file is kept in PostgreSQL,
-- in chunks, so any web process can serve the signed download link; deleted when it expires.
CREATE TABLE "exports" (
    "id" UUID NOT NULL,
    "site_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "format" TEXT NOT NULL,
    "range_from" TIMESTAMPTZ(3) NOT NULL,
    "range_to" TIMESTAMPTZ(3) NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "rows" BIGINT NOT NULL DEFAULT 0,
    "bytes" BIGINT NOT NULL DEFAULT 0,
    "error" TEXT,
    "claimed_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "expires_at" TIMESTAMPTZ(3),

    CONSTRAINT "exports_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "exports_status_created_at_idx" ON "exports"("status", "created_at");
CREATE INDEX "exports_site_id_idx" ON "exports"("site_id");

CREATE TABLE "export_chunks" (
    "export_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "data" BYTEA NOT NULL,

    CONSTRAINT "export_chunks_pkey" PRIMARY KEY ("export_id", "seq")
);
ALTER TABLE "export_chunks" ADD CONSTRAINT "export_chunks_export_id_fkey" FOREIGN KEY ("export_id") REFERENCES "exports"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Imports from Plausible, Umami and GA4 (lib/imports): the uploaded file is kept until the
-- import finishes; progress, counts and skip reasons are the import's report.
CREATE TABLE "imports" (
    "id" UUID NOT NULL,
    "site_id" UUID NOT NULL,
    "user_id" UUID,
    "source" TEXT NOT NULL,
    "filename" TEXT NOT NULL,
    "file_sha256" TEXT NOT NULL,
    "file" BYTEA,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "partition_base" INTEGER NOT NULL,
    "rows_total" INTEGER NOT NULL DEFAULT 0,
    "rows_read" INTEGER NOT NULL DEFAULT 0,
    "rows_imported" INTEGER NOT NULL DEFAULT 0,
    "rows_skipped" INTEGER NOT NULL DEFAULT 0,
    "skipped" JSONB NOT NULL DEFAULT '{}',
    "first_day" TEXT,
    "last_day" TEXT,
    "error" TEXT,
    "claimed_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "imports_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "imports_site_id_idx" ON "imports"("site_id");
CREATE INDEX "imports_status_created_at_idx" ON "imports"("status", "created_at");
