'use client';
import { useQuery } from '@tanstack/react-query';
import type { RecentActivity } from '@/lib/sites/recent-activity';
import { api } from '../api';

// The snippet page's diagnosis: the last events stored and the events dropped on purpose, by
// reason, each with its one-line fix. Refreshed every 3 s while the page is open (the ledger is
// flushed by the collect endpoint every second); a dropped event never reaches the live push.

const REASON: Record<RecentActivity['drops'][number]['reason'], string> = {
  bot: 'Dropped as a bot',
  hostname: 'Hostname not allowed',
  rate_limited: 'Rate limit',
  spam: 'Referrer spam',
  malformed: 'Malformed request',
};

export function RecentActivityList({ siteId, localhostTip }: { siteId: string; localhostTip: string }) {
  const q = useQuery({
    queryKey: ['activity', siteId],
    queryFn: () => api<RecentActivity>(`/api/sites/${siteId}/activity`),
    refetchInterval: 3000,
  });
  const a = q.data;
  return (
    <div className="space-y-4 text-sm" data-testid="recent-activity">
      {a && a.drops.length > 0 && (
        <div>
          <h3 className="mb-1 font-medium text-slate-800">Dropped in the last 24 hours</h3>
          <ul className="space-y-2" data-testid="dropped-events">
            {a.drops.map((d) => (
              <li key={d.reason} className="rounded-lg bg-amber-50 p-3 ring-1 ring-amber-200" data-reason={d.reason}>
                <p className="font-medium text-amber-900">
                  {REASON[d.reason]} · {d.count} event{d.count === 1 ? '' : 's'}
                  {d.lastAt && (
                    <span className="font-normal text-amber-800">
                      {' '}
                      · last at {new Date(d.lastAt).toLocaleTimeString()}
                    </span>
                  )}
                </p>
                <p className="text-amber-900">Fix: {d.fix}</p>
              </li>
            ))}
          </ul>
        </div>
      )}
      <div>
        <h3 className="mb-1 font-medium text-slate-800">Last events received</h3>
        {a && a.events.length > 0 ? (
          <ul className="divide-y divide-slate-100" data-testid="received-events">
            {a.events.map((e, i) => (
              <li key={i} className="flex justify-between gap-3 py-1">
                <span className="min-w-0 truncate text-slate-700">
                  <span className="font-medium">{e.name}</span> {e.path}
                </span>
                <span className="shrink-0 tabular-nums text-slate-500">{new Date(e.at).toLocaleTimeString()}</span>
              </li>
            ))}
          </ul>
        ) : (
          <p className="text-slate-500">None in the last 24 hours.</p>
        )}
      </div>
      <p className="text-xs text-slate-500">{localhostTip}</p>
    </div>
  );
}
