-- Issue 12 §4: freshness from real timestamps.
-- When the rollups job wrote each archived event, inside the transaction that makes it visible:
-- clock_timestamp() (not now(), which is the transaction's start). Added without a default first,
-- so existing rows are not rewritten; older rows stay NULL.
ALTER TABLE "events" ADD COLUMN "applied_at" TIMESTAMPTZ(3);
ALTER TABLE "events" ALTER COLUMN "applied_at" SET DEFAULT clock_timestamp();

-- The collect endpoint's receive time of the newest event it acknowledged for the site in that
-- minute: an acknowledged event newer than the newest visible one is waiting in the pipeline.
ALTER TABLE "ingestion_ledger" ADD COLUMN "last_accepted_at" TIMESTAMPTZ(3);

-- Each site's latest freshness measurement (the alerts job, every ALERTS_INTERVAL_MS): what the
-- SLA page and the dashboard tiles show as "now", with its time so a stale one is never "within target".
CREATE TABLE "site_freshness" (
    "site_id" UUID NOT NULL,
    "measured_at" TIMESTAMPTZ(3) NOT NULL,
    "freshness_ms" INTEGER,
    "cause" TEXT,
    "target_ms" INTEGER,
    "visible_received_at" TIMESTAMPTZ(3),

    CONSTRAINT "site_freshness_pkey" PRIMARY KEY ("site_id")
);
ALTER TABLE "site_freshness" ADD CONSTRAINT "site_freshness_site_id_fkey" FOREIGN KEY ("site_id") REFERENCES "sites"("id") ON DELETE CASCADE ON UPDATE CASCADE;
