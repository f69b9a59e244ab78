'use client';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { ServerRequestsResult } from '@/lib/analytics/server-requests';
import { api } from '../api';
import { formatExact } from '../format';
import { Card } from '../ui/card';
import { toQuery, type DashboardParams } from './params';

// Requests the site's own server answered, sent by @eddy/node (or any events API caller) as
// `request` events. Counted apart from the browser's pageviews and visitors, so a site with both
// the tracker and the middleware sees each page once above and its server's work here. Hidden
// until a site has any; filters do not apply to it (a server request has no source or device).

export function ServerRequestsCard({ apiBase, params }: { apiBase: string; params: DashboardParams }) {
  const qs = toQuery({ ...params, filters: {} });
  const q = useQuery({
    queryKey: ['server-requests', apiBase, qs],
    queryFn: () => api<ServerRequestsResult>(`${apiBase}/server-requests?${qs}`),
    placeholderData: keepPreviousData,
  });
  const d = q.data;
  if (!d || d.total === 0) return null;
  const max = Math.max(1, ...d.byPath.map((p) => p.requests));
  return (
    <Card
      title="Server requests"
      action={
        <span className="text-xs text-slate-400">
          from your server (@eddy/node){Object.keys(params.filters).length ? ' · not filtered' : ''}
        </span>
      }
    >
      <div className="space-y-4" data-testid="server-requests">
        <div className="flex flex-wrap items-baseline gap-x-6 gap-y-2">
          <p>
            <span className="text-2xl font-semibold text-slate-900" data-testid="server-requests-total">
              {formatExact(d.total)}
            </span>{' '}
            <span className="text-sm text-slate-500">requests</span>
          </p>
          {d.byStatus.map((s) => (
            <p key={s.value} className="text-sm text-slate-600">
              <span
                className={`font-mono font-medium ${s.value.startsWith('5') ? 'text-rose-600' : s.value.startsWith('4') ? 'text-amber-600' : 'text-slate-800'}`}
              >
                {s.value}
              </span>{' '}
              {formatExact(s.requests)}
            </p>
          ))}
        </div>
        <ul className="space-y-1">
          {d.byPath.map((p) => (
            <li key={p.value} className="relative flex items-center justify-between gap-3 rounded px-2 py-1 text-sm">
              <span
                className="absolute inset-y-0 left-0 rounded bg-indigo-50"
                style={{ width: `${(p.requests / max) * 100}%` }}
                aria-hidden
              />
              <span className="relative truncate font-mono text-xs text-slate-700">{p.value}</span>
              <span className="relative tabular-nums text-slate-600">{formatExact(p.requests)}</span>
            </li>
          ))}
        </ul>
      </div>
    </Card>
  );
}
