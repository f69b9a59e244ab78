-- The columnar copy of the filter facts (issue 17, lib/analytics/columnar/): each web process keeps
-- event_facts and visit_facts in an embedded DuckDB and follows PostgreSQL by transaction id.
--
-- `xid` is the writing transaction's id (pg_current_xact_id(), the top-level id even inside a
-- savepoint), set on insert and on every update. A reader's snapshot says which transactions have
-- ended (every xid below its xmax that is not in its in-progress list), so it reads each
-- transaction's rows exactly once, after it committed, whatever order transactions commit in
-- (lib/analytics/columnar/sync.ts). A sequence would not do: numbers are taken in one order and
-- committed in another. BRIN, not btree: xids grow with insertion order, the index stays a few
-- pages and, unlike a btree on a column every upsert changes, does not stop HOT updates (PG 16+).
ALTER TABLE "event_facts" ADD COLUMN "xid" BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint);
ALTER TABLE "visit_facts" ADD COLUMN "xid" BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX "event_facts_xid_idx" ON "event_facts" USING BRIN ("xid");
CREATE INDEX "visit_facts_xid_idx" ON "visit_facts" USING BRIN ("xid");

-- What was deleted from the facts, for the copies to delete too: one visit (visitor and started_at
-- set, the sessions job when a visit's bounds no longer exist) or everything of a site before an
-- instant (`before` set, the retention job). A deleted site needs none: its rows are never asked
-- for again (every query names a site that exists) and the copies drop them on their own sweep.
-- Kept two days (the retention job prunes them); a copy that fell further behind reloads.
CREATE TABLE "fact_tombstones" (
    "id" BIGSERIAL NOT NULL,
    "xid" BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    "site_id" UUID NOT NULL,
    "visitor" BIGINT,
    "started_at" TIMESTAMPTZ(3),
    "before" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "fact_tombstones_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "fact_tombstones_xid_idx" ON "fact_tombstones" ("xid");
