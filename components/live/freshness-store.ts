'use client';
import { useSyncExternalStore } from 'react';
import type { SiteFreshnessNow } from '@/lib/sla/behind';

// The site's freshness as the dashboard knows it, shared by every tile: the latest measurement
// (pushed by the relay every 2 s, and in every live snapshot) and the receive time of the newest
// event the live header has shown. Fed by useLive; read by BehindBadge.

export interface TileFreshness {
  site: SiteFreshnessNow;
  /** Receive time of the newest event in the latest live snapshot. */
  liveReceivedAt: number | null;
}

const EMPTY: TileFreshness = {
  site: { ms: null, measuredAt: null, targetMs: null, visibleReceivedAt: null },
  liveReceivedAt: null,
};
const state = new Map<string, TileFreshness>();
const listeners = new Set<() => void>();

export function publishFreshness(siteId: string, patch: Partial<TileFreshness>): void {
  const prev = state.get(siteId) ?? EMPTY;
  const next: TileFreshness = {
    site: patch.site && (patch.site.measuredAt ?? 0) >= (prev.site.measuredAt ?? 0) ? patch.site : prev.site,
    liveReceivedAt: Math.max(prev.liveReceivedAt ?? 0, patch.liveReceivedAt ?? 0) || null,
  };
  if (next.site === prev.site && next.liveReceivedAt === prev.liveReceivedAt) return;
  state.set(siteId, next);
  for (const l of listeners) l();
}

export function useSiteFreshness(siteId: string): TileFreshness {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => state.get(siteId) ?? EMPTY,
    () => EMPTY,
  );
}
