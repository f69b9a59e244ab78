-- Filtered views from facts the workers write (issue 17), instead of rebuilding visits from the
-- raw archive at query time. Dimension values are dictionary-encoded per site (one integer per
-- distinct string), so the fact rows are narrow and group by integers.

-- The dictionary (owner: workers/shared/value-dictionary.ts). `dimension` is the value's kind:
-- page (also entry and exit pages), referrer, channel, utm_source, utm_medium, utm_campaign,
-- country, device, browser, os. Rows are only ever added; an id never changes meaning.
CREATE TABLE "dimension_values" (
    "id" SERIAL NOT NULL,
    "site_id" UUID NOT NULL,
    "dimension" TEXT NOT NULL,
    "value" TEXT NOT NULL,

    CONSTRAINT "dimension_values_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "dimension_values_site_id_dimension_value_key" ON "dimension_values"("site_id", "dimension", "value");

-- One row per archived event (owner: the rollups job, written with the archive row in the same
-- transaction). visitor = hashtextextended(visitor_id, 0); kind 0 pageview, 1 engagement, 2 custom.
-- Referrer and channel are NULL for a navigation inside the site, as in the rollups.
CREATE TABLE "event_facts" (
    "site_id" UUID NOT NULL,
    "ts" TIMESTAMPTZ(3) NOT NULL,
    "event_id" UUID NOT NULL,
    "visitor" BIGINT NOT NULL,
    "kind" INTEGER NOT NULL,
    "page" INTEGER NOT NULL,
    "referrer" INTEGER,
    "channel" INTEGER,
    "utm_source" INTEGER,
    "utm_medium" INTEGER,
    "utm_campaign" INTEGER,
    "country" INTEGER NOT NULL,
    "device" INTEGER NOT NULL,
    "browser" INTEGER NOT NULL,
    "os" INTEGER NOT NULL,

    CONSTRAINT "event_facts_pkey" PRIMARY KEY ("site_id", "ts", "event_id")
);

-- One row per visit (owner: the sessions job, upserted and deleted with its `sessions` row).
CREATE TABLE "visit_facts" (
    "site_id" UUID NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "visitor" BIGINT NOT NULL,
    "ended_at" TIMESTAMPTZ(3) NOT NULL,
    "pageviews" INTEGER NOT NULL,
    "duration_ms" INTEGER NOT NULL,
    "bounce" BOOLEAN NOT NULL,
    "entry_page" INTEGER NOT NULL,
    "exit_page" INTEGER NOT NULL,
    "referrer" INTEGER NOT NULL,
    "channel" INTEGER NOT NULL,
    "utm_source" INTEGER,
    "utm_medium" INTEGER,
    "utm_campaign" INTEGER,
    "country" INTEGER NOT NULL,
    "device" INTEGER NOT NULL,
    "browser" INTEGER NOT NULL,
    "os" INTEGER NOT NULL,

    CONSTRAINT "visit_facts_pkey" PRIMARY KEY ("site_id", "started_at", "visitor")
);

-- Facts for what is already stored: the events archive and the sessions rows, every site (the same
-- statements as lib/analytics/fact-backfill.ts backfillStatements(true)). On a large archive this
-- takes a while (the benchmark: 2 M events and 0.76 M visits in 273 s on a busy 2-core machine); it runs once.
WITH ev AS MATERIALIZED (
  SELECT e.site_id, e.ts, e.event_id, e.visitor_id, e.name,
         coalesce(e.record->>'path', '/') AS page,
         CASE WHEN e.record->>'channel' = 'internal' THEN NULL ELSE coalesce(e.record->>'referrerHost', '(direct)') END AS referrer,
         CASE WHEN e.record->>'channel' = 'internal' THEN NULL ELSE coalesce(e.record->>'channel', 'direct') END AS channel,
         nullif(e.record->'utm'->>'source', '') AS utm_source,
         nullif(e.record->'utm'->>'medium', '') AS utm_medium,
         nullif(e.record->'utm'->>'campaign', '') AS utm_campaign,
         coalesce(e.record->>'country', '(unknown)') AS country,
         coalesce(e.record->>'device', 'other') AS device,
         coalesce(e.record->>'browser', 'Unknown') AS browser,
         coalesce(e.record->>'os', 'Unknown') AS os
    FROM events e), vi AS MATERIALIZED (
  SELECT s.site_id, s.visitor_id, s.started_at, s.ended_at, s.pageviews, s.duration_ms, s.bounce,
         s.entry_path AS entry_page, s.exit_path AS exit_page, coalesce(s.referrer_host, '(direct)') AS referrer, s.channel,
         s.utm_source, s.utm_medium, s.utm_campaign, coalesce(s.country, '(unknown)') AS country, s.device, s.browser, s.os
    FROM sessions s)
     INSERT INTO dimension_values (site_id, dimension, value)
     SELECT DISTINCT * FROM (SELECT DISTINCT site_id, 'page' AS dimension, page AS value FROM ev WHERE page IS NOT NULL UNION SELECT DISTINCT site_id, 'referrer' AS dimension, referrer AS value FROM ev WHERE referrer IS NOT NULL UNION SELECT DISTINCT site_id, 'channel' AS dimension, channel AS value FROM ev WHERE channel IS NOT NULL UNION SELECT DISTINCT site_id, 'utm_source' AS dimension, utm_source AS value FROM ev WHERE utm_source IS NOT NULL UNION SELECT DISTINCT site_id, 'utm_medium' AS dimension, utm_medium AS value FROM ev WHERE utm_medium IS NOT NULL UNION SELECT DISTINCT site_id, 'utm_campaign' AS dimension, utm_campaign AS value FROM ev WHERE utm_campaign IS NOT NULL UNION SELECT DISTINCT site_id, 'country' AS dimension, country AS value FROM ev WHERE country IS NOT NULL UNION SELECT DISTINCT site_id, 'device' AS dimension, device AS value FROM ev WHERE device IS NOT NULL UNION SELECT DISTINCT site_id, 'browser' AS dimension, browser AS value FROM ev WHERE browser IS NOT NULL UNION SELECT DISTINCT site_id, 'os' AS dimension, os AS value FROM ev WHERE os IS NOT NULL UNION SELECT DISTINCT site_id, 'page', entry_page FROM vi WHERE entry_page IS NOT NULL UNION SELECT DISTINCT site_id, 'page', exit_page FROM vi WHERE exit_page IS NOT NULL UNION SELECT DISTINCT site_id, 'referrer', referrer FROM vi WHERE referrer IS NOT NULL UNION SELECT DISTINCT site_id, 'channel', channel FROM vi WHERE channel IS NOT NULL UNION SELECT DISTINCT site_id, 'utm_source', utm_source FROM vi WHERE utm_source IS NOT NULL UNION SELECT DISTINCT site_id, 'utm_medium', utm_medium FROM vi WHERE utm_medium IS NOT NULL UNION SELECT DISTINCT site_id, 'utm_campaign', utm_campaign FROM vi WHERE utm_campaign IS NOT NULL UNION SELECT DISTINCT site_id, 'country', country FROM vi WHERE country IS NOT NULL UNION SELECT DISTINCT site_id, 'device', device FROM vi WHERE device IS NOT NULL UNION SELECT DISTINCT site_id, 'browser', browser FROM vi WHERE browser IS NOT NULL UNION SELECT DISTINCT site_id, 'os', os FROM vi WHERE os IS NOT NULL) v ORDER BY 1, 2, 3
     ON CONFLICT (site_id, dimension, value) DO NOTHING;

INSERT INTO event_facts (site_id, ts, event_id, visitor, kind, page, referrer, channel, utm_source, utm_medium, utm_campaign, country, device, browser, os)
     SELECT x.site_id, x.ts, x.event_id, hashtextextended(x.visitor_id, 0), CASE x.name WHEN 'pageview' THEN 0 WHEN 'engagement' THEN 1 ELSE 2 END,
            (SELECT d.id FROM dimension_values d WHERE d.site_id = x.site_id AND d.dimension = 'page' AND d.value = x.page), (SELECT d.id FROM dimension_values d WHERE d.site_id = x.site_id AND d.dimension = 'referrer' AND d.value = x.referrer), (SELECT d.id FROM dimension_values d WHERE d.site_id = x.site_id AND d.dimension = 'channel' AND d.value = x.channel), (SELECT d.id FROM dimension_values d WHERE d.site_id = x.site_id AND d.dimension = 'utm_source' AND d.value = x.utm_source), (SELECT d.id FROM dimension_values d WHERE d.site_id = x.site_id AND d.dimension = 'utm_medium' AND d.value = x.utm_medium), (SELECT d.id FROM dimension_values d WHERE d.site_id = x.site_id AND d.dimension = 'utm_campaign' AND d.value = x.utm_campaign), (SELECT d.id FROM dimension_values d WHERE d.site_id = x.site_id AND d.dimension = 'country' AND d.value = x.country), (SELECT d.id FROM dimension_values d WHERE d.site_id = x.site_id AND d.dimension = 'device' AND d.value = x.device), (SELECT d.id FROM dimension_values d WHERE d.site_id = x.site_id AND d.dimension = 'browser' AND d.value = x.browser), (SELECT d.id FROM dimension_values d WHERE d.site_id = x.site_id AND d.dimension = 'os' AND d.value = x.os)
       FROM (
  SELECT e.site_id, e.ts, e.event_id, e.visitor_id, e.name,
         coalesce(e.record->>'path', '/') AS page,
         CASE WHEN e.record->>'channel' = 'internal' THEN NULL ELSE coalesce(e.record->>'referrerHost', '(direct)') END AS referrer,
         CASE WHEN e.record->>'channel' = 'internal' THEN NULL ELSE coalesce(e.record->>'channel', 'direct') END AS channel,
         nullif(e.record->'utm'->>'source', '') AS utm_source,
         nullif(e.record->'utm'->>'medium', '') AS utm_medium,
         nullif(e.record->'utm'->>'campaign', '') AS utm_campaign,
         coalesce(e.record->>'country', '(unknown)') AS country,
         coalesce(e.record->>'device', 'other') AS device,
         coalesce(e.record->>'browser', 'Unknown') AS browser,
         coalesce(e.record->>'os', 'Unknown') AS os
    FROM events e) x
     ON CONFLICT (site_id, ts, event_id) DO NOTHING;

INSERT INTO visit_facts (site_id, started_at, visitor, ended_at, pageviews, duration_ms, bounce, entry_page, exit_page, referrer, channel,
       utm_source, utm_medium, utm_campaign, country, device, browser, os)
     SELECT x.site_id, x.started_at, hashtextextended(x.visitor_id, 0), x.ended_at, x.pageviews, x.duration_ms, x.bounce,
            (SELECT d.id FROM dimension_values d WHERE d.site_id = x.site_id AND d.dimension = 'page' AND d.value = x.entry_page), (SELECT d.id FROM dimension_values d WHERE d.site_id = x.site_id AND d.dimension = 'page' AND d.value = x.exit_page), (SELECT d.id FROM dimension_values d WHERE d.site_id = x.site_id AND d.dimension = 'referrer' AND d.value = x.referrer), (SELECT d.id FROM dimension_values d WHERE d.site_id = x.site_id AND d.dimension = 'channel' AND d.value = x.channel), (SELECT d.id FROM dimension_values d WHERE d.site_id = x.site_id AND d.dimension = 'utm_source' AND d.value = x.utm_source), (SELECT d.id FROM dimension_values d WHERE d.site_id = x.site_id AND d.dimension = 'utm_medium' AND d.value = x.utm_medium), (SELECT d.id FROM dimension_values d WHERE d.site_id = x.site_id AND d.dimension = 'utm_campaign' AND d.value = x.utm_campaign), (SELECT d.id FROM dimension_values d WHERE d.site_id = x.site_id AND d.dimension = 'country' AND d.value = x.country), (SELECT d.id FROM dimension_values d WHERE d.site_id = x.site_id AND d.dimension = 'device' AND d.value = x.device), (SELECT d.id FROM dimension_values d WHERE d.site_id = x.site_id AND d.dimension = 'browser' AND d.value = x.browser), (SELECT d.id FROM dimension_values d WHERE d.site_id = x.site_id AND d.dimension = 'os' AND d.value = x.os)
       FROM (
  SELECT s.site_id, s.visitor_id, s.started_at, s.ended_at, s.pageviews, s.duration_ms, s.bounce,
         s.entry_path AS entry_page, s.exit_path AS exit_page, coalesce(s.referrer_host, '(direct)') AS referrer, s.channel,
         s.utm_source, s.utm_medium, s.utm_campaign, coalesce(s.country, '(unknown)') AS country, s.device, s.browser, s.os
    FROM sessions s) x
     ON CONFLICT (site_id, started_at, visitor) DO NOTHING;
