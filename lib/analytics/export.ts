import { downloadResponse } from '../http/download';
import { breakdownCsv } from './csv';
import { MAX_EXPORT_ROWS, siteBreakdown, type StatsQuery, type StatsSite } from './stats';
import type { Dimension } from './dimensions';

/** A breakdown table as a CSV download: every row up to MAX_EXPORT_ROWS, same range and filters. */
export async function breakdownExport(
  site: StatsSite & { domain: string },
  q: StatsQuery,
  dimension: Dimension,
): Promise<Response> {
  const result = await siteBreakdown(site, q, dimension, MAX_EXPORT_ROWS);
  return downloadResponse(
    `eddy-${site.domain}-${dimension}-${result.range.from}-${result.range.to}.csv`,
    breakdownCsv(dimension, result.rows),
  );
}
