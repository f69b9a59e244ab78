'use client';
import { useState } from 'react';
import { allActiveFilters, filterLabel, splitEventProp, type FilterKey } from '@/lib/analytics/dimensions';
import type { RangeKey } from '@/lib/analytics/range';
import { countryName } from '../format';
import type { DashboardParams } from './params';

const RANGES: { key: Exclude<RangeKey, 'custom'>; label: string; short: string }[] = [
  { key: 'today', label: 'Today', short: 'Today' },
  { key: 'yesterday', label: 'Yesterday', short: 'Yest.' },
  { key: '7d', label: 'Last 7 days', short: '7 days' },
  { key: '30d', label: 'Last 30 days', short: '30 days' },
];

export function RangeBar({
  params,
  update,
  today,
}: {
  params: DashboardParams;
  update: (p: Partial<DashboardParams>) => void;
  today: string;
}) {
  const [custom, setCustom] = useState(params.range === 'custom');
  const [from, setFrom] = useState(params.from ?? today);
  const [to, setTo] = useState(params.to ?? today);
  return (
    <div className="flex flex-wrap items-center gap-2">
      <div
        className="flex rounded-lg bg-white p-0.5 shadow-sm ring-1 ring-slate-200"
        role="group"
        aria-label="Date range"
      >
        {RANGES.map((r) => (
          <button
            key={r.key}
            type="button"
            aria-pressed={params.range === r.key}
            onClick={() => {
              setCustom(false);
              update({ range: r.key, from: undefined, to: undefined });
            }}
            className={`rounded-md px-2.5 py-1.5 text-xs font-medium transition sm:text-sm ${params.range === r.key ? 'bg-indigo-600 text-white' : 'text-slate-600 hover:bg-slate-100'}`}
          >
            <span className="hidden sm:inline">{r.label}</span>
            <span className="sm:hidden">{r.short}</span>
          </button>
        ))}
        <button
          type="button"
          aria-pressed={params.range === 'custom'}
          onClick={() => setCustom((c) => !c)}
          className={`rounded-md px-2.5 py-1.5 text-xs font-medium transition sm:text-sm ${params.range === 'custom' ? 'bg-indigo-600 text-white' : 'text-slate-600 hover:bg-slate-100'}`}
        >
          Custom
        </button>
      </div>
      {custom && (
        <form
          className="flex flex-wrap items-center gap-1.5 text-sm"
          onSubmit={(e) => {
            e.preventDefault();
            if (from && to) update({ range: 'custom', from, to });
          }}
        >
          <input
            type="date"
            aria-label="From"
            value={from}
            max={today}
            onChange={(e) => setFrom(e.target.value)}
            className="rounded-md border border-slate-300 px-2 py-1 text-sm"
          />
          <span className="text-slate-400">–</span>
          <input
            type="date"
            aria-label="To"
            value={to}
            max={today}
            onChange={(e) => setTo(e.target.value)}
            className="rounded-md border border-slate-300 px-2 py-1 text-sm"
          />
          <button
            type="submit"
            className="rounded-md bg-slate-800 px-2.5 py-1 text-xs font-medium text-white hover:bg-slate-700"
          >
            Apply
          </button>
        </form>
      )}
      <label className="ml-auto flex items-center gap-1.5 text-xs text-slate-600 sm:text-sm">
        <input
          type="checkbox"
          checked={params.compare}
          onChange={(e) => update({ compare: e.target.checked })}
          className="h-4 w-4 rounded border-slate-300 text-indigo-600"
        />
        Compare with previous period
      </label>
    </div>
  );
}

/** How a filter's value reads in its chip. */
function chipValue(d: FilterKey, v: string): string {
  if (d === 'country') return countryName(v);
  if (d === 'event_prop') {
    const p = splitEventProp(v);
    return p ? `${p.key} = ${p.value}` : v;
  }
  return v;
}

export function FilterChips({
  params,
  setFilter,
  clear,
}: {
  params: DashboardParams;
  setFilter: (d: FilterKey, v: string | null) => void;
  clear: () => void;
}) {
  const entries = allActiveFilters(params.filters);
  if (entries.length === 0) return null;
  return (
    <div className="flex flex-wrap items-center gap-2" data-testid="filters">
      <span className="text-xs font-medium text-slate-500">Filtered by</span>
      {entries.map(([d, v]) => (
        <span
          key={d}
          className="inline-flex max-w-full items-center gap-1 rounded-full bg-indigo-50 py-1 pl-3 pr-1 text-xs text-indigo-800 ring-1 ring-indigo-200"
          data-testid="filter-chip"
        >
          <span className="truncate">
            {filterLabel[d]} is <strong className="font-semibold">{chipValue(d, v)}</strong>
          </span>
          <button
            type="button"
            onClick={() => setFilter(d, null)}
            aria-label={`Remove filter ${filterLabel[d]}`}
            className="rounded-full px-1.5 text-indigo-500 hover:bg-indigo-100"
          >
            ✕
          </button>
        </span>
      ))}
      {entries.length > 1 && (
        <button type="button" onClick={clear} className="text-xs text-slate-500 underline hover:text-slate-700">
          Clear all
        </button>
      )}
    </div>
  );
}
