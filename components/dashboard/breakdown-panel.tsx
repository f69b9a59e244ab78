'use client';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import {
  dimensionLabel,
  isEventDimension,
  isSessionDimension,
  isSourceDimension,
  rankMeasure,
  type Dimension,
} from '@/lib/analytics/dimensions';
import type { BreakdownRow } from '@/lib/analytics/metrics';
import type { BreakdownResult } from '@/lib/analytics/stats';
import { api } from '../api';
import { BehindBadge } from '../live/behind-badge';
import { countryName, formatDuration, formatExact, formatNumber, formatPercent } from '../format';
import { EmptyState, ErrorState, Skeleton } from '../ui/states';
import { toQuery, type DashboardParams } from './params';

// One breakdown card with tabs (e.g. Pages | Entry pages | Exit pages): the top 10 rows, a bar
// behind each in proportion to its rank measure, a click on a row filters the whole dashboard,
// and "CSV" downloads the full table with the same range and filters.

const tabLabel: Partial<Record<Dimension, string>> = {
  page: 'Pages',
  entry_page: 'Entry',
  exit_page: 'Exit',
  channel: 'Channels',
  referrer: 'Referrers',
  utm_source: 'Source',
  utm_medium: 'Medium',
  utm_campaign: 'Campaign',
  country: 'Countries',
  device: 'Devices',
  browser: 'Browsers',
  os: 'OS',
};

function display(d: Dimension, v: string): string {
  if (d === 'country') return countryName(v);
  if (d === 'device' || d === 'channel') return v.charAt(0).toUpperCase() + v.slice(1);
  return v;
}

export function BreakdownPanel({
  title,
  dimensions,
  apiBase,
  siteId,
  params,
  onFilter,
}: {
  title: string;
  dimensions: Dimension[];
  apiBase: string;
  siteId: string;
  params: DashboardParams;
  onFilter: (d: Dimension, v: string) => void;
}) {
  const [dim, setDim] = useState<Dimension>(dimensions[0]!);
  const qs = toQuery(params, { dimension: dim, limit: '10' });
  const q = useQuery({
    queryKey: ['breakdown', apiBase, qs],
    queryFn: () => api<BreakdownResult>(`${apiBase}/breakdown?${qs}`),
    placeholderData: keepPreviousData,
  });
  const exportHref = `${apiBase}/export?${toQuery(params, { dimension: dim })}`;
  const rows = q.data?.dimension === dim ? q.data.rows : [];
  const measure = rankMeasure(dim);
  const top = Math.max(1, ...rows.map((r) => r[measure] ?? 0));
  const cols = columnsFor(dim);

  return (
    <section
      className="flex min-w-0 flex-col rounded-xl lg:min-h-[22rem] bg-white shadow-sm ring-1 ring-slate-200"
      data-testid={`breakdown-${title.toLowerCase()}`}
    >
      <header className="flex flex-wrap items-center justify-between gap-2 border-b border-slate-100 px-4 py-2.5">
        <h2 className="flex items-center gap-2 text-sm font-semibold text-slate-800">
          {title}
          <BehindBadge siteId={siteId} dataUpdatedAt={q.dataUpdatedAt} />
        </h2>
        <div className="flex min-w-0 max-w-full items-center gap-1">
          {dimensions.length > 1 && (
            <div className="flex min-w-0 overflow-x-auto" role="tablist">
              {dimensions.map((d) => (
                <button
                  key={d}
                  type="button"
                  role="tab"
                  aria-selected={d === dim}
                  onClick={() => setDim(d)}
                  className={`whitespace-nowrap rounded-md px-2 py-1 text-xs font-medium ${d === dim ? 'bg-slate-100 text-slate-900' : 'text-slate-500 hover:text-slate-800'}`}
                >
                  {tabLabel[d] ?? dimensionLabel[d]}
                </button>
              ))}
            </div>
          )}
          <a
            href={exportHref}
            download
            className="ml-1 shrink-0 rounded-md px-2 py-1 text-xs font-medium text-indigo-600 ring-1 ring-indigo-200 hover:bg-indigo-50"
            data-testid={`export-${dim}`}
          >
            CSV
          </a>
        </div>
      </header>
      <div className="flex-1 px-2 py-2">
        {q.isPending ? (
          <div className="space-y-2 p-2">
            {Array.from({ length: 6 }, (_, i) => (
              <Skeleton key={i} className="h-6" />
            ))}
          </div>
        ) : q.isError ? (
          <ErrorState title="Could not load this table" message={q.error.message} onRetry={() => void q.refetch()} />
        ) : rows.length === 0 ? (
          <EmptyState title="Nothing here yet">
            No {dimensionLabel[dim].toLowerCase()} data for this range
            {Object.keys(params.filters).length ? ' and filter' : ''}.
          </EmptyState>
        ) : (
          <table className={`w-full table-fixed text-sm ${q.isPlaceholderData ? 'opacity-60' : ''}`}>
            <thead>
              <tr className="text-[11px] uppercase tracking-wide text-slate-400">
                <th className="px-2 py-1 text-left font-medium">{dimensionLabel[dim]}</th>
                {cols.map((c) => (
                  <th
                    key={c.key}
                    className={`w-[4.5rem] px-2 py-1 text-right font-medium ${c.hideOnPhone ? 'hidden sm:table-cell' : ''}`}
                  >
                    {c.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr
                  key={r.value}
                  className="group cursor-pointer"
                  onClick={() => onFilter(dim, r.value)}
                  data-testid="breakdown-row"
                >
                  <td className="relative px-2 py-1">
                    <span
                      className="absolute inset-y-0.5 left-0 rounded bg-indigo-50 transition-colors group-hover:bg-indigo-100"
                      style={{ width: `${((r[measure] ?? 0) / top) * 100}%` }}
                    />
                    <button
                      type="button"
                      className="relative block w-full truncate text-left text-slate-700 group-hover:text-indigo-700"
                      title={`Filter by ${dimensionLabel[dim].toLowerCase()} ${r.value}`}
                    >
                      {display(dim, r.value)}
                    </button>
                  </td>
                  {cols.map((c) => (
                    <td
                      key={c.key}
                      className={`px-2 py-1 text-right tabular-nums text-slate-600 ${c.hideOnPhone ? 'hidden sm:table-cell' : ''}`}
                      title={c.exact?.(r)}
                    >
                      {c.render(r)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </section>
  );
}

interface Column {
  key: string;
  label: string;
  render: (r: BreakdownRow) => string;
  exact?: (r: BreakdownRow) => string;
  hideOnPhone?: boolean;
}

function columnsFor(d: Dimension): Column[] {
  const cols: Column[] = [];
  if (isEventDimension(d)) {
    cols.push({
      key: 'visitors',
      label: 'Visitors',
      render: (r) => formatNumber(r.visitors),
      exact: (r) => formatExact(r.visitors),
    });
    // A source's row is about its visits (Visitors, Visits, Bounce); their pageviews are in the API and CSV.
    if (!isSourceDimension(d))
      cols.push({
        key: 'pageviews',
        label: 'Views',
        render: (r) => formatNumber(r.pageviews),
        exact: (r) => formatExact(r.pageviews),
        hideOnPhone: isSessionDimension(d),
      });
  }
  if (isSessionDimension(d)) {
    cols.push({
      key: 'sessions',
      label: d === 'exit_page' ? 'Exits' : d === 'entry_page' ? 'Entries' : 'Visits',
      render: (r) => formatNumber(r.sessions),
      exact: (r) => formatExact(r.sessions),
      hideOnPhone: isEventDimension(d),
    });
    if (d !== 'exit_page')
      cols.push({
        key: 'bounce',
        label: 'Bounce',
        render: (r) => formatPercent(r.bounceRate),
        hideOnPhone: isEventDimension(d),
      });
    if (d === 'entry_page')
      cols.push({
        key: 'duration',
        label: 'Duration',
        render: (r) => formatDuration(r.avgDurationMs),
        hideOnPhone: true,
      });
  }
  return cols;
}
