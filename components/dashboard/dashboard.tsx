'use client';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useEffect, useRef, useState } from 'react';
import type { StatsResult } from '@/lib/analytics/stats';
import { localDate } from '@/lib/analytics/time-zone';
import type { LiveSnapshot } from '@/lib/live/snapshot';
import { api } from '../api';
import { BehindBadge } from '../live/behind-badge';
import { BehaviourPanel, CustomEventsPanel, FunnelsPanel, GoalsPanel } from '../insights/insight-panels';
import { LiveHeader } from '../live/live-header';
import { EmptyState, ErrorState, Skeleton } from '../ui/states';
import { BreakdownPanel } from './breakdown-panel';
import { MetricCards, type ChartMetric } from './metric-cards';
import { toQuery, useDashboardParams } from './params';
import { PeaksCard } from './peaks-card';
import { ServerRequestsCard } from './server-requests-card';
import { FilterChips, RangeBar } from './range-bar';
import { TimeSeriesChart } from './time-series-chart';

// The site dashboard, for members (apiBase /api/sites/:id) and share links (/api/share/:token):
// the live header pushed over Socket.IO, then history through React Query.

export function Dashboard({
  apiBase,
  siteId,
  timezone,
  initialSnapshot,
  shareToken,
  snippetHref,
}: {
  apiBase: string;
  siteId: string;
  timezone: string;
  initialSnapshot: LiveSnapshot;
  shareToken?: string;
  snippetHref?: string;
}) {
  const { params, update, setFilter, setFilters } = useDashboardParams();
  const [metric, setMetric] = useState<ChartMetric>('visitors');
  const qs = toQuery(params);
  const stats = useQuery({
    queryKey: ['stats', apiBase, qs],
    queryFn: () => api<StatsResult>(`${apiBase}/stats?${qs}`),
    placeholderData: keepPreviousData,
  });
  const today = localDate(Date.now(), timezone);
  const includesToday =
    params.range === 'today' ||
    params.range === '7d' ||
    params.range === '30d' ||
    (params.range === 'custom' && (params.to ?? '') >= today);
  useRefreshOnLive(apiBase, includesToday);
  const data = stats.data;
  const empty = data && data.summary.pageviews === 0 && data.summary.visitors === 0 && data.summary.sessions === 0;
  const peakDay = data && data.range.from === data.range.to ? data.range.from : today;

  return (
    <div className="space-y-5" data-testid="dashboard">
      <LiveHeader siteId={siteId} initial={initialSnapshot} timezone={timezone} shareToken={shareToken} />

      <div className="space-y-3">
        <RangeBar params={params} update={update} today={today} />
        <FilterChips params={params} setFilter={setFilter} clear={() => update({ filters: {} })} />
      </div>

      <section
        className="rounded-xl bg-white shadow-sm ring-1 ring-slate-200"
        aria-label="History"
        data-testid="history"
        data-range={data?.range.key}
        data-loading={stats.isFetching ? 'true' : 'false'}
      >
        <MetricCards
          summary={data?.summary}
          previous={data?.previous}
          selected={metric}
          onSelect={setMetric}
          loading={stats.isPending}
          pageFilter={params.filters.page}
        />
        <div className="border-t border-slate-100">
          {stats.isPending ? (
            <div className="p-4">
              <Skeleton className="h-[220px]" />
            </div>
          ) : stats.isError ? (
            <ErrorState
              title="Could not load the history"
              message={stats.error.message}
              onRetry={() => void stats.refetch()}
            />
          ) : empty ? (
            <EmptyState
              icon="∿"
              title={
                Object.keys(params.filters).length
                  ? 'Nothing matches this filter in this range'
                  : data.range.ended
                    ? 'No visitors in this range'
                    : 'No visitors in this range yet'
              }
              action={
                // A range that ended says nothing about the snippet today (the live header does),
                // nor does a filter that matches nothing: the site has data, the filter does not.
                snippetHref && !data.range.ended && !Object.keys(params.filters).length ? (
                  <Link href={snippetHref} className="text-sm font-medium text-indigo-600 underline">
                    Check the snippet installation
                  </Link>
                ) : undefined
              }
            >
              {data.range.label} · {data.range.timezone}
            </EmptyState>
          ) : (
            <div className={stats.isPlaceholderData ? 'opacity-60 transition-opacity' : ''}>
              <TimeSeriesChart
                series={data!.series}
                previous={data!.previousSeries}
                metric={metric}
                interval={data!.range.interval}
              />
            </div>
          )}
        </div>
        {data && (
          <p className="flex flex-wrap items-center gap-x-2 border-t border-slate-100 px-4 py-2 text-[11px] text-slate-400">
            <BehindBadge siteId={siteId} dataUpdatedAt={stats.dataUpdatedAt} />
            {data.range.label} (
            {data.range.from === data.range.to ? data.range.from : `${data.range.from} – ${data.range.to}`},{' '}
            {data.range.timezone})
            {data.previousRange &&
              ` · compared with ${data.previousRange.from === data.previousRange.to ? data.previousRange.from : `${data.previousRange.from} – ${data.previousRange.to}`}`}
            {data.source === 'rollups' && ' · visits count from their first pageview, open ones included'}
          </p>
        )}
      </section>

      <div className="grid gap-5 lg:grid-cols-2">
        <BreakdownPanel
          title="Pages"
          siteId={siteId}
          dimensions={['page', 'entry_page', 'exit_page']}
          apiBase={apiBase}
          params={params}
          onFilter={setFilter}
        />
        <BreakdownPanel
          title="Sources"
          siteId={siteId}
          dimensions={['channel', 'referrer', 'utm_source', 'utm_medium', 'utm_campaign']}
          apiBase={apiBase}
          params={params}
          onFilter={setFilter}
        />
        <BreakdownPanel
          title="Locations"
          siteId={siteId}
          dimensions={['country']}
          apiBase={apiBase}
          params={params}
          onFilter={setFilter}
        />
        <BreakdownPanel
          title="Devices"
          siteId={siteId}
          dimensions={['device', 'browser', 'os']}
          apiBase={apiBase}
          params={params}
          onFilter={setFilter}
        />
      </div>

      <ServerRequestsCard apiBase={apiBase} params={params} />

      {/* Issue 14: what visitors do. With row filters, these count the visitors the filters select (lib/insights/report.ts). */}
      {Object.keys(params.filters).length > 0 && (
        <p className="text-xs text-slate-500">
          Goals, funnels, custom events and behaviour below count the visitors this filter selects, and all they did in
          the range.
        </p>
      )}
      <div className="grid gap-5 lg:grid-cols-2">
        <GoalsPanel
          apiBase={apiBase}
          siteId={siteId}
          params={params}
          settingsHref={snippetHref ? snippetHref.replace(/\/snippet$/, '/goals') : undefined}
        />
        <FunnelsPanel apiBase={apiBase} siteId={siteId} params={params} />
        <CustomEventsPanel apiBase={apiBase} siteId={siteId} params={params} onFilter={setFilters} />
        <BehaviourPanel apiBase={apiBase} siteId={siteId} params={params} />
      </div>

      <PeaksCard apiBase={apiBase} siteId={siteId} day={peakDay} isToday={peakDay === today} />
    </div>
  );
}

/**
 * History that includes today goes stale as events arrive; rather than polling, refetch when
 * the live relay pushes — at most once a second (tighter than half of any sensible SLA target), and
 * always once more after the last push of a burst: a
 * push dropped by the throttle is caught up when it ends, so a visit's third pageview reaches
 * Visits, Bounce rate and Pages / visit within a second of its push, not at the next push.
 */
const REFRESH_AT_MOST_EVERY_MS = 1000;

function useRefreshOnLive(apiBase: string, includesToday: boolean) {
  const throttleMs = REFRESH_AT_MOST_EVERY_MS;
  const client = useQueryClient();
  const last = useRef(0);
  useEffect(() => {
    if (!includesToday) return;
    let trailing: ReturnType<typeof setTimeout> | null = null;
    const refresh = () => {
      trailing = null;
      last.current = Date.now();
      void client.invalidateQueries({ queryKey: ['stats', apiBase] });
      void client.invalidateQueries({ queryKey: ['breakdown', apiBase] });
      void client.invalidateQueries({ queryKey: ['peaks', apiBase] });
      void client.invalidateQueries({ queryKey: ['server-requests', apiBase] });
    };
    const onPush = () => {
      const wait = last.current + throttleMs - Date.now();
      if (wait <= 0) refresh();
      else trailing ??= setTimeout(refresh, wait);
    };
    window.addEventListener('eddy:live', onPush);
    return () => {
      window.removeEventListener('eddy:live', onPush);
      if (trailing) clearTimeout(trailing);
    };
  }, [client, apiBase, includesToday, throttleMs]);
}
