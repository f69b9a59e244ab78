'use client';
import { change, type Metrics } from '@/lib/analytics/metrics';
import { formatDecimal, formatDuration, formatExact, formatNumber, formatPercent } from '../format';
import { Skeleton } from '../ui/states';

export type ChartMetric = 'visitors' | 'pageviews' | 'sessions';

const CARDS: {
  key: keyof Metrics;
  label: string;
  format: (v: number | null) => string;
  chart?: ChartMetric;
  lowerIsBetter?: boolean;
}[] = [
  { key: 'visitors', label: 'Visitors', format: formatNumber, chart: 'visitors' },
  { key: 'pageviews', label: 'Pageviews', format: formatNumber, chart: 'pageviews' },
  { key: 'sessions', label: 'Visits', format: formatNumber, chart: 'sessions' },
  { key: 'bounceRate', label: 'Bounce rate', format: (v) => formatPercent(v), lowerIsBetter: true },
  { key: 'avgDurationMs', label: 'Visit duration', format: formatDuration },
  { key: 'pagesPerSession', label: 'Pages / visit', format: formatDecimal },
];

export function MetricCards({
  summary,
  previous,
  selected,
  onSelect,
  loading,
  pageFilter,
}: {
  /** Filtered by a page, Pageviews are that page's views while Pages / visit counts every page of the visits that viewed it (3 views, 3 visits, 2.67 pages per visit): the label says which. */
  pageFilter?: string;
  summary?: Metrics;
  previous?: Metrics | null;
  selected: ChartMetric;
  onSelect: (m: ChartMetric) => void;
  loading: boolean;
}) {
  return (
    <div
      className="grid grid-cols-2 gap-px overflow-hidden rounded-t-xl bg-slate-100 sm:grid-cols-3 lg:grid-cols-6"
      data-testid="metrics"
    >
      {CARDS.map((c) => {
        const value = summary ? summary[c.key] : null;
        const delta = summary && previous ? change(summary[c.key], previous[c.key]) : null;
        const good = delta === null ? null : c.lowerIsBetter ? delta < 0 : delta > 0;
        const selectable = c.chart !== undefined;
        const active = c.chart === selected;
        return (
          <button
            key={c.key}
            type="button"
            disabled={!selectable}
            onClick={() => c.chart && onSelect(c.chart)}
            aria-pressed={selectable ? active : undefined}
            data-testid={`metric-${c.key}`}
            className={`relative bg-white px-4 py-3 text-left transition disabled:cursor-default ${selectable ? 'hover:bg-slate-50' : ''}`}
          >
            {active && <span className="absolute inset-x-0 top-0 h-0.5 bg-indigo-600" />}
            <span
              className="block truncate text-xs font-medium text-slate-500"
              title={pageFilter && c.key === 'pageviews' ? pageFilter : undefined}
            >
              {pageFilter && c.key === 'pageviews' ? 'Views of this page' : c.label}
            </span>
            {loading && !summary ? (
              <Skeleton className="mt-1.5 h-7 w-16" />
            ) : (
              <span
                className="mt-0.5 block text-2xl font-semibold tabular-nums tracking-tight text-slate-900"
                title={typeof value === 'number' && c.key !== 'bounceRate' ? formatExact(value) : undefined}
              >
                {c.format(value)}
              </span>
            )}
            <span
              className={`block h-4 text-xs tabular-nums ${good === null ? 'text-slate-400' : good ? 'text-emerald-600' : 'text-rose-600'}`}
            >
              {delta === null
                ? previous
                  ? '—'
                  : ''
                : `${delta > 0 ? '↑' : delta < 0 ? '↓' : ''} ${formatPercent(Math.abs(delta), Math.abs(delta) < 0.1 && delta !== 0 ? 1 : 0)}`}
            </span>
          </button>
        );
      })}
    </div>
  );
}
