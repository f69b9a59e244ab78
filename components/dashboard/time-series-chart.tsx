'use client';
import { useMemo, useState } from 'react';
import type { SeriesPoint } from '@/lib/analytics/metrics';
import { formatExact, formatNumber, shortDate } from '../format';
import type { ChartMetric } from './metric-cards';

// The history chart, drawn as SVG (no chart library is a dependency of Eddy; see the report).
// The plot stretches to the card's width (non-scaling strokes); labels and the tooltip are HTML
// so they stay crisp at any size.

const W = 1000;
const H = 260;

/** Round gridlines: the smallest step of 1, 2 or 5 × 10^k that covers `v` in at most 5 steps. */
export function niceScale(v: number): { max: number; ticks: number[] } {
  const max = Math.max(1, v);
  for (let p = 1; ; p *= 10) {
    for (const f of [1, 2, 5]) {
      const step = f * p;
      const n = Math.ceil(max / step);
      if (n <= 5) {
        const steps = Math.max(n, 2);
        return { max: step * steps, ticks: Array.from({ length: steps + 1 }, (_, i) => step * (steps - i)) };
      }
    }
  }
}

const metricLabel: Record<ChartMetric, string> = { visitors: 'Visitors', pageviews: 'Pageviews', sessions: 'Visits' };

export function TimeSeriesChart({
  series,
  previous,
  metric,
  interval,
}: {
  series: SeriesPoint[];
  previous: SeriesPoint[] | null;
  metric: ChartMetric;
  interval: 'hour' | 'day';
}) {
  const [hover, setHover] = useState<number | null>(null);
  const n = series.length;
  const { max, ticks } = useMemo(
    () => niceScale(Math.max(...series.map((p) => p[metric]), ...(previous ?? []).map((p) => p[metric]))),
    [series, previous, metric],
  );
  const x = (i: number) => (n <= 1 ? W / 2 : (i / (n - 1)) * W);
  const y = (v: number) => H - (v / max) * H;
  const visible = series.filter((p) => !p.future);
  const line = visible.map((p, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(p[metric]).toFixed(1)}`).join('');
  const area = visible.length ? `${line}L${x(visible.length - 1).toFixed(1)},${H}L0,${H}Z` : '';
  const prevLine =
    previous
      ?.slice(0, n)
      .map((p, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(p[metric]).toFixed(1)}`)
      .join('') ?? '';
  const label = (p: SeriesPoint) => (interval === 'hour' ? p.label.slice(11) : shortDate(p.label));
  // Fewer x labels on a phone; the last point is always labelled and a tick too close to it dropped.
  const wide = Math.max(1, Math.ceil(n / 7));
  const narrow = Math.max(1, Math.ceil(n / 4));
  // Phones label every `narrow`-th point, wider screens every `wide`-th; the last point always.
  const tick = (i: number): string | null => {
    if (i === n - 1) return '';
    const onPhone = i % narrow === 0 && n - 1 - i >= narrow;
    const onWide = i % wide === 0 && n - 1 - i >= wide * 0.6;
    if (onPhone && onWide) return '';
    if (onPhone) return 'sm:hidden';
    if (onWide) return 'hidden sm:inline';
    return null;
  };

  const h = hover !== null ? series[hover] : null;

  return (
    <div className="px-2 pb-2 pt-4 sm:px-4" data-testid="timeseries">
      <div className="flex">
        <div className="relative mr-2 flex h-[180px] w-8 flex-col justify-between text-right text-[10px] tabular-nums text-slate-400 sm:h-[220px]">
          {ticks.map((t) => (
            <span key={t} className="-translate-y-1/2 first:translate-y-0 last:translate-y-0">
              {formatNumber(t)}
            </span>
          ))}
        </div>
        <div
          className="relative h-[180px] flex-1 sm:h-[220px]"
          onMouseLeave={() => setHover(null)}
          onMouseMove={(e) => {
            const r = e.currentTarget.getBoundingClientRect();
            const i = Math.round(((e.clientX - r.left) / r.width) * (n - 1));
            setHover(Math.max(0, Math.min(n - 1, i)));
          }}
        >
          <svg
            viewBox={`0 0 ${W} ${H}`}
            preserveAspectRatio="none"
            className="absolute inset-0 h-full w-full overflow-visible"
            role="img"
            aria-label={`${metricLabel[metric]} over time`}
          >
            <defs>
              <linearGradient id="eddy-area" x1="0" x2="0" y1="0" y2="1">
                <stop offset="0%" stopColor="rgb(99 102 241)" stopOpacity="0.25" />
                <stop offset="100%" stopColor="rgb(99 102 241)" stopOpacity="0" />
              </linearGradient>
            </defs>
            {ticks.slice(0, -1).map((t) => (
              <line
                key={t}
                x1="0"
                x2={W}
                y1={y(t)}
                y2={y(t)}
                stroke="var(--color-slate-200)"
                strokeWidth="1"
                vectorEffect="non-scaling-stroke"
              />
            ))}
            <line
              x1="0"
              x2={W}
              y1={H}
              y2={H}
              stroke="var(--color-slate-300)"
              strokeWidth="1"
              vectorEffect="non-scaling-stroke"
            />
            {prevLine && (
              <path
                d={prevLine}
                fill="none"
                stroke="rgb(148 163 184)"
                strokeWidth="1.5"
                strokeDasharray="4 4"
                vectorEffect="non-scaling-stroke"
              />
            )}
            {area && <path d={area} fill="url(#eddy-area)" />}
            {line && (
              <path
                d={line}
                fill="none"
                stroke="rgb(79 70 229)"
                strokeWidth="2.25"
                strokeLinejoin="round"
                vectorEffect="non-scaling-stroke"
              />
            )}
            {hover !== null && (
              <line
                x1={x(hover)}
                x2={x(hover)}
                y1="0"
                y2={H}
                stroke="rgb(148 163 184)"
                strokeWidth="1"
                vectorEffect="non-scaling-stroke"
              />
            )}
          </svg>
          {hover !== null && h && !h.future && (
            <span
              className="pointer-events-none absolute h-2.5 w-2.5 -translate-x-1/2 -translate-y-1/2 rounded-full bg-indigo-600 ring-2 ring-white"
              style={{ left: `${(x(hover) / W) * 100}%`, top: `${(y(h[metric]) / H) * 100}%` }}
            />
          )}
          {hover !== null && h && (
            <div
              className="pointer-events-none absolute top-0 z-10 min-w-[9rem] rounded-lg bg-slate-900/95 px-3 py-2 text-xs text-white shadow-lg"
              style={{
                left: `${(x(hover) / W) * 100}%`,
                transform: `translateX(${hover > n / 2 ? 'calc(-100% - 8px)' : '8px'})`,
              }}
            >
              <p className="font-medium">{interval === 'hour' ? h.label : shortDate(h.label)}</p>
              <p className="mt-0.5 tabular-nums">
                {metricLabel[metric]}: {h.future ? '—' : formatExact(h[metric])}
              </p>
              {previous?.[hover] && (
                <p className="tabular-nums text-slate-300">
                  Previous: {formatExact(previous[hover]![metric])} (
                  {interval === 'hour' ? previous[hover]!.label.slice(11) : shortDate(previous[hover]!.label)})
                </p>
              )}
            </div>
          )}
        </div>
      </div>
      <div className="relative ml-10 mt-1 h-4 text-[10px] text-slate-400">
        {series.map((p, i) =>
          tick(i) !== null ? (
            <span
              key={p.start}
              className={`absolute whitespace-nowrap ${i === 0 ? '' : i === n - 1 ? '-translate-x-full' : '-translate-x-1/2'} ${tick(i)}`}
              style={{ left: `${(x(i) / W) * 100}%` }}
            >
              {label(p)}
            </span>
          ) : null,
        )}
      </div>
    </div>
  );
}
