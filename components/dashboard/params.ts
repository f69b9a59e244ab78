'use client';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useCallback, useMemo } from 'react';
import { FILTER_KEYS, type FilterKey, type Filters } from '@/lib/analytics/dimensions';
import { RANGE_KEYS, type RangeKey } from '@/lib/analytics/range';

// The dashboard's state lives in the URL (range, comparison, filters), so a view can be
// bookmarked, shared and reloaded. Every query string the API receives is built here.

export interface DashboardParams {
  range: RangeKey;
  from?: string;
  to?: string;
  compare: boolean;
  filters: Filters;
}

export function toQuery(p: DashboardParams, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams();
  q.set('range', p.range);
  if (p.range === 'custom' && p.from && p.to) {
    q.set('from', p.from);
    q.set('to', p.to);
  }
  if (!p.compare) q.set('compare', 'none');
  for (const d of FILTER_KEYS) if (p.filters[d]) q.set(d, p.filters[d]!);
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  return q.toString();
}

export function useDashboardParams() {
  const sp = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const params = useMemo<DashboardParams>(() => {
    const r = sp.get('range');
    const range = (RANGE_KEYS as readonly string[]).includes(r ?? '') ? (r as RangeKey) : '7d';
    const filters: Filters = {};
    for (const d of FILTER_KEYS) {
      const v = sp.get(d);
      if (v) filters[d] = v;
    }
    const from = sp.get('from') ?? undefined;
    const to = sp.get('to') ?? undefined;
    return {
      range: range === 'custom' && !(from && to) ? '7d' : range,
      from,
      to,
      compare: sp.get('compare') !== 'none',
      filters,
    };
  }, [sp]);
  const update = useCallback(
    (patch: Partial<DashboardParams>) => {
      router.replace(`${pathname}?${toQuery({ ...params, ...patch })}`, { scroll: false });
    },
    [router, pathname, params],
  );
  /** Sets (a value) or removes (null) several filters in one navigation. */
  const setFilters = useCallback(
    (patch: Partial<Record<FilterKey, string | null>>) => {
      const filters = { ...params.filters };
      for (const [d, value] of Object.entries(patch) as [FilterKey, string | null][]) {
        if (value === null) delete filters[d];
        else filters[d] = value;
      }
      update({ filters });
    },
    [params, update],
  );
  const setFilter = useCallback((d: FilterKey, value: string | null) => setFilters({ [d]: value }), [setFilters]);
  return { params, update, setFilter, setFilters };
}
