'use client';
import { useEffect, useState } from 'react';
import { MEASUREMENT_STALE_MS, behindTone, formatBehind, tileBehindMs } from '@/lib/sla/behind';
import { formatDuration } from '@/lib/sla/targets';
import { useNow } from './use-live';
import { useSiteFreshness } from './freshness-store';

// "3 s behind" on a dashboard tile: the pipeline's measured freshness plus how much newer the
// visible data is than what this tile shows, amber past half the site's SLA target, red past it.
// A tile fed by the live snapshot passes the snapshot's newest receive time; a tile fetched over
// HTTP passes when its data arrived, and is taken to hold what was visible at that moment.

const TONES = {
  neutral: 'bg-slate-50 text-slate-600 ring-slate-200',
  ok: 'bg-emerald-50 text-emerald-700 ring-emerald-200',
  amber: 'bg-amber-50 text-amber-800 ring-amber-300',
  red: 'bg-rose-50 text-rose-700 ring-rose-300',
} as const;

export function BehindBadge({
  siteId,
  receivedThrough,
  dataUpdatedAt,
  className = '',
}: {
  siteId: string;
  receivedThrough?: number | null;
  dataUpdatedAt?: number;
  className?: string;
}) {
  const { site, liveReceivedAt } = useSiteFreshness(siteId);
  const now = useNow(1000);
  const visible = Math.max(liveReceivedAt ?? 0, site.visibleReceivedAt ?? 0) || null;
  const [fetchedThrough, setFetchedThrough] = useState<number | null>(visible);
  // What was visible when this tile's data arrived is what the tile holds.
  useEffect(() => setFetchedThrough(visible), [dataUpdatedAt]); // only when the data changes, not when newer data becomes visible
  const through = receivedThrough !== undefined ? receivedThrough : fetchedThrough;
  const stale = site.measuredAt === null || now - site.measuredAt > MEASUREMENT_STALE_MS;
  if (stale && site.measuredAt === null && visible === null) return null;
  const ms = tileBehindMs({ ...site, visibleReceivedAt: visible }, through);
  const tone = stale ? 'amber' : behindTone(ms, site.targetMs);
  const title = stale
    ? 'Freshness is not being measured right now (is the alerts worker running?)'
    : `Pipeline ${site.ms === null ? 'up to date' : `${formatDuration(site.ms)} behind`}${site.targetMs === null ? ', no SLA target' : `, SLA target ${formatDuration(site.targetMs)}`}`;
  return (
    <span
      data-testid="behind"
      data-tone={tone}
      data-ms={Math.round(ms)}
      title={title}
      className={`inline-flex items-center gap-1 whitespace-nowrap rounded-full px-2 py-0.5 text-[11px] font-medium tabular-nums ring-1 ${TONES[tone]} ${className}`}
    >
      <span
        className={`h-1.5 w-1.5 rounded-full ${tone === 'red' ? 'bg-rose-500' : tone === 'amber' ? 'bg-amber-500' : tone === 'ok' ? 'bg-emerald-500' : 'bg-slate-400'}`}
      />
      {stale ? 'freshness unknown' : formatBehind(ms)}
    </span>
  );
}
