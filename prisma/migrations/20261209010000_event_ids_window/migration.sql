-- The jobs' dedup keys are kept for DEDUP_WINDOW_MS (default 14 days), not forever: the retention
-- job deletes older ones by this index (BRIN: seen_at grows with insertion, the index stays a few
-- pages and costs the claim nothing measurable).
CREATE INDEX "event_ids_seen_at_idx" ON "event_ids" USING BRIN ("seen_at");
