-- Pages per visit from the visits themselves (issue 12 §2): the pageviews of the visits that
-- started in a bucket, written by the sessions job beside sessions, bounces and duration. Until
-- now the dashboard divided all pageviews in a range by the visits started in it, which is off
-- for every visit that crosses the range's edge (a visit across midnight counted its later
-- pageviews on the next day, which had no visit to divide them by).
ALTER TABLE "rollups" ADD COLUMN "visit_pageviews" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "rollup_days" ADD COLUMN "visit_pageviews" INTEGER NOT NULL DEFAULT 0;

-- The totals rows of existing buckets, from the visits already stored (minute and hour buckets
-- are UTC; day buckets start at the site's local midnight, as the sessions job cuts them).
-- Breakdown rows start at 0: no breakdown shows pages per visit.
UPDATE "rollups" r SET "visit_pageviews" = v.pv
  FROM (
    SELECT s.site_id, 'minute'::"Granularity" AS g, date_trunc('minute', s.started_at) AS b, s.source_partition AS p, sum(s.pageviews)::int AS pv
      FROM "sessions" s GROUP BY 1, 2, 3, 4
    UNION ALL
    SELECT s.site_id, 'hour'::"Granularity", date_trunc('hour', s.started_at), s.source_partition, sum(s.pageviews)::int
      FROM "sessions" s GROUP BY 1, 2, 3, 4
    UNION ALL
    SELECT s.site_id, 'day'::"Granularity", date_trunc('day', s.started_at AT TIME ZONE t.timezone) AT TIME ZONE t.timezone, s.source_partition, sum(s.pageviews)::int
      FROM "sessions" s JOIN "sites" t ON t.id = s.site_id GROUP BY 1, 2, 3, 4
  ) v
 WHERE r.site_id = v.site_id AND r.granularity = v.g AND r.bucket = v.b AND r.source_partition = v.p AND r.dimension = '' AND r.value = '';

-- The compacted days are a cache of rollups: forget their versions so they are rebuilt with the column.
DELETE FROM "rollup_day_versions";
