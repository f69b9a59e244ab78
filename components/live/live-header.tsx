'use client';
import { useMemo } from 'react';
import type { LiveSnapshot, TopRow } from '@/lib/live/snapshot';
import { countOf, countryName, formatNumber, formatPercent, timeOfDay } from '../format';
import { BehindBadge } from './behind-badge';
import { useLive, useNow, type LiveStatus } from './use-live';
import { MINUTE } from '@/lib/time';

// The live header: current visitors, the last 30 minutes' pageviews, visits and bounce rate, its
// pageviews per minute (the chart slides left as minutes pass), what is being read right now,
// today's busiest 5 minutes, and how fresh it is.

const WINDOW = 30;

export function LiveHeader({
  siteId,
  initial,
  timezone,
  shareToken,
}: {
  siteId: string;
  initial: LiveSnapshot;
  timezone: string;
  shareToken?: string;
}) {
  const { snapshot, status, receivedAt } = useLive(siteId, initial, shareToken);
  // The server rendered with its snapshot's time: hydrate with the same, then the real clock.
  const now = useNow(1000, initial.at);
  const bars = useMemo(() => {
    const known = new Map(snapshot.minutes.map((m) => [m.minute, m.pageviews]));
    const current = Math.floor(now / MINUTE) * MINUTE;
    return Array.from({ length: WINDOW }, (_, i) => {
      const minute = current - (WINDOW - 1 - i) * MINUTE;
      return { minute, pageviews: known.get(minute) ?? 0 };
    });
  }, [snapshot, now]);
  const total = bars.reduce((n, b) => n + b.pageviews, 0);
  const peakBar = Math.max(1, ...bars.map((b) => b.pageviews));

  return (
    <section className="rounded-xl bg-white shadow-sm ring-1 ring-slate-200" aria-label="Live">
      <div className="flex items-start justify-between gap-4 p-4 sm:p-5">
        <div className="flex min-w-0 flex-wrap gap-x-10 gap-y-3">
          <div>
            <p className="flex items-center gap-1.5 text-xs font-medium uppercase tracking-wide text-slate-500">
              <span
                className={`h-2 w-2 rounded-full ${snapshot.currentVisitors > 0 ? 'animate-pulse bg-emerald-500' : 'bg-slate-300'}`}
              />{' '}
              Current visitors
            </p>
            <p
              data-testid="current-visitors"
              className="mt-1 text-4xl font-semibold tabular-nums tracking-tight sm:text-5xl"
            >
              {formatNumber(snapshot.currentVisitors)}
            </p>
          </div>
          <div>
            <p className="text-xs font-medium uppercase tracking-wide text-slate-500">Pageviews, last 30 min</p>
            <p
              data-testid="pageviews-30m"
              className="mt-1 text-4xl font-semibold tabular-nums tracking-tight sm:text-5xl"
            >
              {total.toLocaleString('en-US')}
            </p>
          </div>
          <div>
            <p className="text-xs font-medium uppercase tracking-wide text-slate-500">Visits, last 30 min</p>
            <p data-testid="visits-30m" className="mt-1 text-4xl font-semibold tabular-nums tracking-tight sm:text-5xl">
              {formatNumber(snapshot.visits ?? 0)}
            </p>
          </div>
          <div>
            <p className="text-xs font-medium uppercase tracking-wide text-slate-500">Bounce rate, last 30 min</p>
            <p
              data-testid="bounce-30m"
              className="mt-1 text-4xl font-semibold tabular-nums tracking-tight sm:text-5xl"
              title="Visits that started in the last 30 minutes, open ones included"
            >
              {formatPercent(snapshot.bounceRate ?? null)}
            </p>
          </div>
        </div>
        <div className="shrink-0 text-right">
          <StatusPill status={status} />
          <Freshness receivedAt={receivedAt} />
          <BehindBadge siteId={siteId} receivedThrough={snapshot.latestReceivedAt} className="mt-1" />
        </div>
      </div>

      <div className="px-4 sm:px-5">
        <div
          className="flex h-20 items-end gap-[3px]"
          role="img"
          aria-label={`Pageviews per minute, last 30 minutes: ${total}`}
          data-testid="live-minutes"
        >
          {bars.map((b) => (
            <div key={b.minute} className="group relative flex h-full flex-1 items-end">
              <div
                className={`w-full rounded-t-sm transition-[height] duration-500 ease-out ${b.pageviews ? 'bg-indigo-500' : 'bg-slate-200'}`}
                style={{ height: `${b.pageviews ? Math.max(6, (b.pageviews / peakBar) * 100) : 4}%` }}
              />
              <span className="pointer-events-none absolute bottom-full left-1/2 z-10 mb-1 hidden -translate-x-1/2 whitespace-nowrap rounded bg-slate-900 px-1.5 py-0.5 text-[10px] text-white group-hover:block">
                {timeOfDay(b.minute, timezone)} · {b.pageviews}
              </span>
            </div>
          ))}
        </div>
        <div className="mt-1 flex justify-between text-[10px] text-slate-400">
          <span>30 min ago</span>
          <span>now</span>
        </div>
      </div>

      <div className="mt-4 grid grid-cols-2 gap-px overflow-hidden rounded-b-xl border-t border-slate-100 bg-slate-100 lg:grid-cols-4">
        <TopList title="Top pages now" rows={snapshot.topPages} testId="live-top-pages" />
        <TopList title="Top referrers now" rows={snapshot.topReferrers} />
        <TopList title="Top countries now" rows={snapshot.topCountries} render={countryName} />
        <div className="bg-white p-4">
          <p className="text-xs font-medium uppercase tracking-wide text-slate-500">Busiest 5 min today</p>
          {snapshot.peak ? (
            <div data-testid="live-peak">
              <p className="mt-1 text-lg font-semibold tabular-nums">
                {timeOfDay(snapshot.peak.windowStart, timezone)}–{timeOfDay(snapshot.peak.windowEnd, timezone)}
              </p>
              <p className="text-sm text-slate-500">
                {countOf(snapshot.peak.pageviews, 'pageview')} · {countOf(snapshot.peak.visitors, 'visitor')}
              </p>
            </div>
          ) : (
            <p className="mt-1 text-sm text-slate-400">No traffic yet today</p>
          )}
        </div>
      </div>
    </section>
  );
}

function StatusPill({ status }: { status: LiveStatus }) {
  const look = {
    live: ['bg-emerald-50 text-emerald-700 ring-emerald-200', 'animate-pulse bg-emerald-500', 'Live'],
    connecting: ['bg-slate-100 text-slate-600 ring-slate-200', 'bg-slate-400', 'Connecting…'],
    offline: ['bg-amber-50 text-amber-800 ring-amber-200', 'bg-amber-500', 'Offline — reconnecting'],
    denied: ['bg-rose-50 text-rose-700 ring-rose-200', 'bg-rose-500', 'No access'],
  }[status];
  return (
    <span
      data-testid="live-status"
      className={`inline-flex items-center gap-1.5 rounded-full px-2.5 py-1 text-xs font-medium ring-1 ${look[0]}`}
    >
      <span className={`h-2 w-2 rounded-full ${look[1]}`} />
      {look[2]}
    </span>
  );
}

/** "updated 0.4 s ago": time since the last snapshot arrived, ticking every 100 ms. */
function Freshness({ receivedAt }: { receivedAt: number | null }) {
  const now = useNow(100);
  if (receivedAt === null) return <p className="mt-2 text-xs text-slate-400">connecting…</p>;
  const s = Math.max(0, (now - receivedAt) / 1000);
  return (
    <p className="mt-2 text-xs tabular-nums text-slate-500" data-testid="live-freshness">
      updated {s < 10 ? s.toFixed(1) : s < 60 ? Math.round(s) : `${Math.round(s / 60)} min`}
      {s < 60 ? ' s' : ''} ago
    </p>
  );
}

function TopList({
  title,
  rows,
  render = (v) => v,
  testId,
}: {
  title: string;
  rows: TopRow[];
  render?: (v: string) => string;
  testId?: string;
}) {
  return (
    <div className="bg-white p-4" data-testid={testId}>
      <p className="text-xs font-medium uppercase tracking-wide text-slate-500">{title}</p>
      {rows.length === 0 ? (
        <p className="mt-1 text-sm text-slate-400">Nothing in the last 5 minutes</p>
      ) : (
        <ul className="mt-2 space-y-1">
          {rows.map((r) => (
            <li key={r.value} className="flex items-baseline justify-between gap-2 text-sm">
              <span className="truncate text-slate-700" title={r.value}>
                {render(r.value)}
              </span>
              <span className="shrink-0 tabular-nums text-slate-500">{formatNumber(r.visitors || r.pageviews)}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
