'use client';
import { useQuery } from '@tanstack/react-query';
import type { PeakWindow } from '@/lib/analytics/peaks';
import { api } from '../api';
import { BehindBadge } from '../live/behind-badge';
import { formatNumber, shortDate, timeOfDay } from '../format';
import { EmptyState, ErrorState, Skeleton } from '../ui/states';

// The day's busiest hour (60-minute window sliding by 5 minutes) for the whole site and for each
// content group, with the busiest 5 minutes of the site.

interface PeaksResult {
  day: string;
  timezone: string;
  contentGroups: string[];
  windows: PeakWindow[];
}

export function PeaksCard({
  apiBase,
  siteId,
  day,
  isToday,
}: {
  apiBase: string;
  siteId: string;
  day: string;
  isToday: boolean;
}) {
  const q = useQuery({
    queryKey: ['peaks', apiBase, day],
    queryFn: () => api<PeaksResult>(`${apiBase}/peaks?day=${day}`),
  });
  const title = isToday ? 'Peak hours today' : `Peak hours, ${shortDate(day)}`;
  return (
    <section className="rounded-xl bg-white shadow-sm ring-1 ring-slate-200" data-testid="peaks">
      <header className="flex items-center gap-2 border-b border-slate-100 px-4 py-2.5">
        <h2 className="text-sm font-semibold text-slate-800">{title}</h2>
        <BehindBadge siteId={siteId} dataUpdatedAt={q.dataUpdatedAt} />
      </header>
      <div className="p-4">
        {q.isPending ? (
          <Skeleton className="h-16" />
        ) : q.isError ? (
          <ErrorState title="Could not load peak windows" message={q.error.message} onRetry={() => void q.refetch()} />
        ) : q.data.windows.length === 0 ? (
          <EmptyState title={isToday ? 'No peak yet' : 'No peak'}>
            {isToday ? 'The busiest hour appears here as traffic arrives.' : 'No traffic on this day.'}
          </EmptyState>
        ) : (
          <PeakList data={q.data} />
        )}
      </div>
    </section>
  );
}

function PeakList({ data }: { data: PeaksResult }) {
  const hourly = data.windows.filter((w) => w.windowMinutes === 60);
  const site5 = data.windows.find((w) => w.contentGroup === '' && w.windowMinutes === 5);
  const groups = ['', ...data.contentGroups];
  const rows = groups
    .map((g) => ({ group: g, w: hourly.find((h) => h.contentGroup === g) }))
    .filter((r) => r.w || r.group === '');
  return (
    <div className="grid gap-4 sm:grid-cols-[1fr_auto]">
      <ul className="divide-y divide-slate-100">
        {rows.map(({ group, w }) => (
          <li key={group} className="flex items-baseline justify-between gap-3 py-1.5 text-sm">
            <span className={group ? 'text-slate-600' : 'font-medium text-slate-900'}>{group || 'Whole site'}</span>
            {w ? (
              <span className="tabular-nums text-slate-700">
                {timeOfDay(w.start, data.timezone)}–{timeOfDay(w.end, data.timezone)}{' '}
                <span className="text-slate-400">
                  · {formatNumber(w.pageviews)} {w.pageviews === 1 ? 'pageview' : 'pageviews'}
                </span>
              </span>
            ) : (
              <span className="text-slate-400">—</span>
            )}
          </li>
        ))}
      </ul>
      {site5 && (
        <div className="rounded-lg bg-indigo-50 px-3 py-2 text-sm text-indigo-900">
          <p className="text-xs text-indigo-700">Busiest 5 minutes</p>
          <p className="font-semibold tabular-nums">
            {timeOfDay(site5.start, data.timezone)}–{timeOfDay(site5.end, data.timezone)}
          </p>
          <p className="text-xs tabular-nums">
            {formatNumber(site5.pageviews)} {site5.pageviews === 1 ? 'pageview' : 'pageviews'}
          </p>
        </div>
      )}
    </div>
  );
}
