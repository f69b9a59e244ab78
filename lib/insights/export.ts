import { downloadResponse } from '../http/download';
import { csvCell } from '../analytics/csv';
import { siteInsights, type InsightsQuery, type InsightsResult, type InsightsSite } from './report';

// CSV of one insights panel, same range (and search) as on screen, up to 1,000 rows. Cells are
// formula-escaped by csvCell: event names, property values and URLs come from the internet.

export function insightsCsv(r: InsightsResult): string {
  let header: string[];
  let rows: (string | number | null)[][];
  switch (r.kind) {
    case 'goals':
      header = ['Goal', 'Matches', 'Conversions', 'Unique converters', 'Conversion rate'];
      rows = r.goals.map((g) => [g.name, g.description, g.conversions, g.converters, g.conversionRate]);
      break;
    case 'goal_breakdown':
      header = [r.by, 'Visitors', 'Converters', 'Conversion rate'];
      rows = r.rows.map((x) => [x.value, x.visitors, x.converters, x.conversionRate]);
      break;
    case 'funnels':
      header = ['Funnel', 'Step', 'Visitors', 'Drop-off', 'Conversion from step 1', 'Median time from step 1 (s)'];
      rows = r.funnels.flatMap((f) =>
        f.steps.map((s, i) => [
          f.name,
          `${i + 1}. ${s.label}`,
          s.visitors,
          s.dropOff,
          s.conversion,
          s.medianMsFromStart === null ? null : Math.round(s.medianMsFromStart / 1000),
        ]),
      );
      break;
    default:
      header =
        r.kind === 'prop'
          ? ['Property', 'Value', 'Events', 'Visitors']
          : r.kind === '404_referrer'
            ? ['Path', 'Referrer', 'Events', 'Visitors']
            : r.kind === 'engagement'
              ? ['Page', 'Engagement reports', 'Visitors', 'Avg. engaged time per visitor (s)', 'Avg. scroll depth (%)']
              : [
                  r.kind === 'event' ? 'Event' : r.kind === '404' ? 'Path' : 'URL',
                  'Events',
                  'Visitors',
                  ...(r.kind === 'event' ? ['Conversion rate'] : []),
                ];
      rows = r.rows.map((x) =>
        r.kind === 'prop' || r.kind === '404_referrer'
          ? [
              r.kind === 'prop' ? (x.key ?? '') : x.value,
              r.kind === 'prop' ? x.value : (x.key ?? ''),
              x.count,
              x.visitors,
            ]
          : r.kind === 'engagement'
            ? [
                x.value,
                x.count,
                x.visitors,
                x.avgVisibleMs == null ? null : Math.round(x.avgVisibleMs / 1000),
                x.avgScroll == null ? null : Math.round(x.avgScroll),
              ]
            : [x.value, x.count, x.visitors, ...(r.kind === 'event' ? [x.conversionRate ?? null] : [])],
      );
  }
  return `${[header.map(csvCell).join(','), ...rows.map((row) => row.map(csvCell).join(','))].join('\r\n')}\r\n`;
}

export async function insightsExport(site: InsightsSite & { domain: string }, q: InsightsQuery): Promise<Response> {
  const r = await siteInsights(site, { ...q, limit: 1000 });
  return downloadResponse(`eddy-${site.domain}-${q.kind}-${r.range.from}-${r.range.to}.csv`, insightsCsv(r));
}
