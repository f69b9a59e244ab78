'use client';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import type { FilterKey } from '@/lib/analytics/dimensions';
import { OTHER } from '@/lib/insights/kinds';
import type { FunnelReport, InsightRow, InsightsResult } from '@/lib/insights/report';
import { api } from '../api';
import { toQuery, type DashboardParams } from '../dashboard/params';
import { BehindBadge } from '../live/behind-badge';
import { formatDuration, formatExact, formatNumber, formatPercent } from '../format';
import { EmptyState, ErrorState, Skeleton } from '../ui/states';

// The dashboard's panels for what visitors do (issue 14): custom events with a property
// drill-down, outbound links / downloads / 404s / engagement, goals with conversion rate by
// source, country and device, and funnels. Numbers come from the insights and funnels jobs; the
// query keys start with 'breakdown' so the dashboard's live refresh (a push from the relay)
// refetches them like every other table.

type Extra = Record<string, string>;

function useInsights(apiBase: string, params: DashboardParams, extra: Extra, enabled = true) {
  const qs = toQuery(params, extra);
  return {
    q: useQuery({
      queryKey: ['breakdown', apiBase, 'insights', qs],
      queryFn: () => api<InsightsResult>(`${apiBase}/insights?${qs}`),
      placeholderData: keepPreviousData,
      enabled,
    }),
    exportHref: `${apiBase}/insights/export?${qs}`,
  };
}

function Panel({
  title,
  testId,
  siteId,
  updatedAt,
  tabs,
  csv,
  children,
  note,
}: {
  title: string;
  testId: string;
  siteId: string;
  updatedAt: number;
  tabs?: ReactNode;
  csv?: string;
  children: ReactNode;
  note?: ReactNode;
}) {
  return (
    <section
      className="flex min-w-0 flex-col rounded-xl bg-white shadow-sm ring-1 ring-slate-200 lg:min-h-[22rem]"
      data-testid={testId}
    >
      <header className="flex flex-wrap items-center justify-between gap-2 border-b border-slate-100 px-4 py-2.5">
        <h2 className="flex items-center gap-2 text-sm font-semibold text-slate-800">
          {title}
          <BehindBadge siteId={siteId} dataUpdatedAt={updatedAt} />
        </h2>
        <div className="flex min-w-0 max-w-full items-center gap-1">
          {tabs}
          {csv && (
            <a
              href={csv}
              download
              className="ml-1 shrink-0 rounded-md px-2 py-1 text-xs font-medium text-indigo-600 ring-1 ring-indigo-200 hover:bg-indigo-50"
            >
              CSV
            </a>
          )}
        </div>
      </header>
      <div className="flex-1 px-2 py-2">{children}</div>
      {note && <p className="border-t border-slate-100 px-4 py-2 text-[11px] text-slate-400">{note}</p>}
    </section>
  );
}

function Tabs<T extends string>({
  tabs,
  value,
  onChange,
}: {
  tabs: [T, string][];
  value: T;
  onChange: (t: T) => void;
}) {
  return (
    <div className="flex min-w-0 flex-wrap" role="tablist">
      {tabs.map(([k, label]) => (
        <button
          key={k}
          type="button"
          role="tab"
          aria-selected={k === value}
          onClick={() => onChange(k)}
          className={`whitespace-nowrap rounded-md px-2 py-1 text-xs font-medium ${k === value ? 'bg-slate-100 text-slate-900' : 'text-slate-500 hover:text-slate-800'}`}
        >
          {label}
        </button>
      ))}
    </div>
  );
}

interface Column {
  label: string;
  render: (r: InsightRow) => string;
  hideOnPhone?: boolean;
}

function Loading() {
  return (
    <div className="space-y-2 p-2">
      {Array.from({ length: 5 }, (_, i) => (
        <Skeleton key={i} className="h-6" />
      ))}
    </div>
  );
}

function RowsTable({
  rows,
  label,
  cols,
  onRow,
  testId,
}: {
  rows: InsightRow[];
  label: (r: InsightRow) => ReactNode;
  cols: Column[];
  onRow?: (r: InsightRow) => void;
  testId: string;
}) {
  const top = Math.max(1, ...rows.map((r) => r.count));
  return (
    <table className="w-full table-fixed text-sm" data-testid={testId}>
      <tbody>
        {rows.map((r, i) => (
          <tr
            key={`${r.key ?? ''}|${r.value}|${i}`}
            className={onRow ? 'group cursor-pointer' : ''}
            onClick={onRow ? () => onRow(r) : undefined}
            data-testid="insight-row"
          >
            <td className="relative px-2 py-1">
              <span
                className="absolute inset-y-0.5 left-0 rounded bg-indigo-50 group-hover:bg-indigo-100"
                style={{ width: `${(r.count / top) * 100}%` }}
              />
              <span className="relative block truncate text-slate-700" title={r.value}>
                {label(r)}
                {r.imported && (
                  <span
                    className="ml-1.5 rounded bg-amber-50 px-1 text-[10px] font-medium uppercase tracking-wide text-amber-800 ring-1 ring-amber-200"
                    title="Includes imported data (daily totals from another tool)"
                    data-testid="imported-tag"
                  >
                    imported
                  </span>
                )}
              </span>
            </td>
            {cols.map((c) => (
              <td
                key={c.label}
                className={`w-[5.5rem] px-2 py-1 text-right tabular-nums text-slate-600 ${c.hideOnPhone ? 'hidden sm:table-cell' : ''}`}
              >
                {c.render(r)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Header({ cols, first }: { cols: Column[]; first: string }) {
  return (
    <div className="flex px-2 text-[11px] uppercase tracking-wide text-slate-400">
      <span className="flex-1 px-2">{first}</span>
      {cols.map((c) => (
        <span key={c.label} className={`w-[5.5rem] px-2 text-right ${c.hideOnPhone ? 'hidden sm:inline' : ''}`}>
          {c.label}
        </span>
      ))}
    </div>
  );
}

function Body({
  q,
  empty,
  filtered,
  children,
}: {
  q: ReturnType<typeof useInsights>['q'];
  empty: string;
  /** The dashboard has filters: "nothing" then says so, not how to send data. */
  filtered: boolean;
  children: (r: InsightsResult) => ReactNode;
}) {
  if (q.isPending) return <Loading />;
  if (q.isError)
    return <ErrorState title="Could not load this panel" message={q.error.message} onRetry={() => void q.refetch()} />;
  const data = q.data!;
  const isEmpty =
    'rows' in data
      ? data.rows.length === 0
      : data.kind === 'goals'
        ? data.goals.length === 0
        : data.kind === 'funnels'
          ? data.funnels.length === 0
          : false;
  if (isEmpty)
    return filtered ? (
      <EmptyState title="Nothing matches">Nothing here for this range and filter.</EmptyState>
    ) : (
      <EmptyState title="Nothing here yet">{empty}</EmptyState>
    );
  return <div className={q.isPlaceholderData ? 'opacity-60' : ''}>{children(data)}</div>;
}

const isFiltered = (p: DashboardParams) => Object.keys(p.filters).length > 0;

const rowsOf = (r: InsightsResult): InsightRow[] =>
  r.kind !== 'goals' && r.kind !== 'goal_breakdown' && r.kind !== 'funnels' ? r.rows : [];

/**
 * Custom events by name (count, unique visitors, conversion rate), and the property drill-down.
 * Clicking an event filters the whole dashboard to the visits that sent it (custom_event) and
 * opens its properties; clicking a property value narrows to that value (event_prop), as a row of
 * any breakdown does.
 */
export function CustomEventsPanel({
  apiBase,
  siteId,
  params,
  onFilter,
}: {
  apiBase: string;
  siteId: string;
  params: DashboardParams;
  onFilter: (patch: Partial<Record<FilterKey, string | null>>) => void;
}) {
  const [tab, setTab] = useState<'event' | 'prop'>('event');
  const [event, setEvent] = useState<string | null>(null);
  const [search, setSearch] = useState('');
  const events = useInsights(apiBase, params, { kind: 'event', limit: '10' });
  const firstEvent = events.q.data ? rowsOf(events.q.data)[0]?.value : undefined;
  const selected = event ?? params.filters.custom_event ?? firstEvent ?? '';
  const props = useInsights(
    apiBase,
    params,
    { kind: 'prop', event: selected, limit: '20', ...(search ? { search } : {}) },
    tab === 'prop' && selected !== '',
  );
  const active = tab === 'event' ? events : props;
  const cols: Column[] =
    tab === 'event'
      ? [
          { label: 'Visitors', render: (r) => formatNumber(r.visitors) },
          { label: 'Events', render: (r) => formatNumber(r.count), hideOnPhone: true },
          { label: 'CR', render: (r) => formatPercent(r.conversionRate, 1) },
        ]
      : [
          { label: 'Visitors', render: (r) => formatNumber(r.visitors) },
          { label: 'Events', render: (r) => formatNumber(r.count) },
        ];
  return (
    <Panel
      title="Custom events"
      testId="panel-custom-events"
      siteId={siteId}
      updatedAt={active.q.dataUpdatedAt}
      csv={active.exportHref}
      tabs={
        <Tabs
          tabs={[
            ['event', 'Events'],
            ['prop', 'Properties'],
          ]}
          value={tab}
          onChange={setTab}
        />
      }
      note={
        tab === 'event'
          ? 'CR: visitors who sent the event ÷ all visitors in the range. Click an event to filter the dashboard by it and see its properties.'
          : 'Top values of each property key; values beyond 100 per key and minute count as (other). Click a value to filter the dashboard by it.'
      }
    >
      {tab === 'prop' && (
        <div className="flex flex-wrap items-center gap-2 px-2 pb-2">
          <select
            aria-label="Event"
            className="rounded-md border border-slate-200 bg-white px-2 py-1 text-xs"
            value={selected}
            onChange={(e) => setEvent(e.target.value)}
          >
            {(events.q.data ? rowsOf(events.q.data) : []).map((r) => (
              <option key={r.value} value={r.value}>
                {r.value}
              </option>
            ))}
          </select>
          <input
            aria-label="Search property values"
            placeholder="Filter keys or values"
            className="min-w-0 flex-1 rounded-md border border-slate-200 bg-white px-2 py-1 text-xs"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
        </div>
      )}
      <Body
        q={active.q}
        filtered={isFiltered(params)}
        empty={
          tab === 'event'
            ? 'No custom events in this range. Send one with eddy("Signup", {plan: "pro"}).'
            : 'No properties for this event in this range.'
        }
      >
        {(d) => (
          <>
            <Header cols={cols} first={tab === 'event' ? 'Event' : 'Property = value'} />
            <RowsTable
              testId={tab === 'event' ? 'custom-events' : 'event-properties'}
              rows={rowsOf(d)}
              cols={cols}
              label={(r) => (tab === 'prop' ? `${r.key} = ${r.value}` : r.value)}
              onRow={(r) => {
                // "(other)" is a bucket of many values, not one a visit could be filtered by.
                if (r.value === OTHER) return;
                if (tab === 'event') {
                  setEvent(r.value);
                  setTab('prop');
                  onFilter({ custom_event: r.value, event_prop: null });
                } else if (r.key) {
                  onFilter({ custom_event: selected, event_prop: `${r.key}:${r.value}` });
                }
              }}
            />
          </>
        )}
      </Body>
    </Panel>
  );
}

type BehaviourKind = 'outbound' | 'download' | '404' | 'engagement';

/** Outbound links, file downloads, 404 pages (with referrers) and engagement per page. */
export function BehaviourPanel({
  apiBase,
  siteId,
  params,
}: {
  apiBase: string;
  siteId: string;
  params: DashboardParams;
}) {
  const [kind, setKind] = useState<BehaviourKind>('outbound');
  const [referrers, setReferrers] = useState(false);
  const k = kind === '404' && referrers ? '404_referrer' : kind;
  const { q, exportHref } = useInsights(apiBase, params, { kind: k, limit: '10' });
  const cols: Column[] =
    kind === 'engagement'
      ? [
          { label: 'Visitors', render: (r) => formatNumber(r.visitors) },
          { label: 'Time', render: (r) => formatDuration(r.avgVisibleMs) },
          { label: 'Scroll', render: (r) => (r.avgScroll == null ? '—' : `${Math.round(r.avgScroll)}%`) },
        ]
      : [
          { label: 'Visitors', render: (r) => formatNumber(r.visitors) },
          {
            label: kind === 'outbound' ? 'Clicks' : kind === 'download' ? 'Downloads' : 'Views',
            render: (r) => formatExact(r.count),
          },
        ];
  const first = {
    outbound: 'Link',
    download: 'File',
    '404': referrers ? 'Page ← referrer' : 'Page',
    engagement: 'Page',
  }[kind];
  const empty = {
    outbound: 'No outbound link clicks in this range.',
    download: 'No file downloads in this range.',
    '404': 'No 404 pages in this range. Add data-404 to the snippet on your 404 page (tracker/README.md).',
    engagement: 'No engagement reports in this range (sent when a visitor leaves or hides a page).',
  }[kind];
  return (
    <Panel
      title="Behaviour"
      testId="panel-behaviour"
      siteId={siteId}
      updatedAt={q.dataUpdatedAt}
      csv={exportHref}
      tabs={
        <Tabs
          tabs={[
            ['outbound', 'Outbound'],
            ['download', 'Downloads'],
            ['404', '404s'],
            ['engagement', 'Engagement'],
          ]}
          value={kind}
          onChange={setKind}
        />
      }
      note={
        kind === '404' ? (
          <label className="inline-flex items-center gap-1">
            <input type="checkbox" checked={referrers} onChange={(e) => setReferrers(e.target.checked)} /> show the
            referrers that led there
          </label>
        ) : kind === 'engagement' ? (
          'Time: visible time per visitor on the page; Scroll: average deepest scroll reported.'
        ) : undefined
      }
    >
      <Body q={q} empty={empty} filtered={isFiltered(params)}>
        {(d) => (
          <>
            <Header cols={cols} first={first} />
            <RowsTable
              testId={`behaviour-${k}`}
              rows={rowsOf(d)}
              cols={cols}
              label={(r) => (r.key ? `${r.value} ← ${r.key}` : r.value)}
            />
          </>
        )}
      </Body>
    </Panel>
  );
}

type By = 'channel' | 'referrer' | 'country' | 'device';

/** Goals: conversions, unique converters and conversion rate; a click breaks one down by source, country or device. */
export function GoalsPanel({
  apiBase,
  siteId,
  params,
  settingsHref,
}: {
  apiBase: string;
  siteId: string;
  params: DashboardParams;
  settingsHref?: string;
}) {
  const [goal, setGoal] = useState<string | null>(null);
  const [by, setBy] = useState<By>('channel');
  const goals = useInsights(apiBase, params, { kind: 'goals' });
  const breakdown = useInsights(
    apiBase,
    params,
    { kind: 'goal_breakdown', goal: goal ?? '', by, limit: '10' },
    goal !== null,
  );
  const data = goals.q.data?.kind === 'goals' ? goals.q.data : null;
  const current = data?.goals.find((g) => g.id === goal);
  return (
    <Panel
      title="Goals"
      testId="panel-goals"
      siteId={siteId}
      updatedAt={goals.q.dataUpdatedAt}
      csv={goal ? breakdown.exportHref : goals.exportHref}
      tabs={
        goal ? (
          <Tabs
            tabs={[
              ['channel', 'Channel'],
              ['referrer', 'Referrer'],
              ['country', 'Country'],
              ['device', 'Device'],
            ]}
            value={by}
            onChange={setBy}
          />
        ) : undefined
      }
      note={
        goal
          ? 'Conversion rate of the visitors whose visits came this way (a visit’s source is how it began).'
          : 'Conversion rate: converting visitors ÷ all visitors in the range. Click a goal to break it down.'
      }
    >
      {goal && current ? (
        <div>
          <button type="button" className="mb-1 px-2 text-xs text-indigo-600" onClick={() => setGoal(null)}>
            ← All goals · <span className="font-medium">{current.name}</span>
          </button>
          {breakdown.q.isPending ? (
            <Loading />
          ) : breakdown.q.data?.kind === 'goal_breakdown' ? (
            <table className="w-full table-fixed text-sm" data-testid="goal-breakdown">
              <thead>
                <tr className="text-[11px] uppercase tracking-wide text-slate-400">
                  <th className="px-2 text-left font-medium">{by}</th>
                  <th className="w-[5.5rem] px-2 text-right font-medium">Visitors</th>
                  <th className="w-[5.5rem] px-2 text-right font-medium">Converted</th>
                  <th className="w-[5.5rem] px-2 text-right font-medium">CR</th>
                </tr>
              </thead>
              <tbody>
                {breakdown.q.data.rows.map((r) => (
                  <tr key={r.value} data-testid="goal-breakdown-row">
                    <td className="truncate px-2 py-1 text-slate-700">{r.value}</td>
                    <td className="px-2 py-1 text-right tabular-nums text-slate-600">{formatNumber(r.visitors)}</td>
                    <td className="px-2 py-1 text-right tabular-nums text-slate-600">{formatNumber(r.converters)}</td>
                    <td className="px-2 py-1 text-right tabular-nums text-slate-600">
                      {formatPercent(r.conversionRate, 1)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </div>
      ) : (
        <Body
          q={goals.q}
          empty={settingsHref ? 'No goals yet. Define one on the Goals page.' : 'No goals defined for this site.'}
          // Goals and funnels are definitions: none defined whatever the filter.
          filtered={false}
        >
          {() => (
            <table className="w-full table-fixed text-sm" data-testid="goals">
              <thead>
                <tr className="text-[11px] uppercase tracking-wide text-slate-400">
                  <th className="px-2 text-left font-medium">Goal</th>
                  <th className="w-[5.5rem] px-2 text-right font-medium">Uniques</th>
                  <th className="hidden w-[5.5rem] px-2 text-right font-medium sm:table-cell">Total</th>
                  <th className="w-[5.5rem] px-2 text-right font-medium">CR</th>
                </tr>
              </thead>
              <tbody>
                {data?.goals.map((g) => (
                  <tr
                    key={g.id}
                    className="cursor-pointer hover:bg-slate-50"
                    onClick={() => setGoal(g.id)}
                    data-testid="goal-row"
                  >
                    <td className="px-2 py-1">
                      <span className="block truncate text-slate-800">{g.name}</span>
                      <span className="block truncate text-[11px] text-slate-400">{g.description}</span>
                    </td>
                    <td className="px-2 py-1 text-right tabular-nums text-slate-600">{formatExact(g.converters)}</td>
                    <td className="hidden px-2 py-1 text-right tabular-nums text-slate-600 sm:table-cell">
                      {formatExact(g.conversions)}
                    </td>
                    <td className="px-2 py-1 text-right tabular-nums font-medium text-slate-800">
                      {formatPercent(g.conversionRate, 1)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Body>
      )}
    </Panel>
  );
}

/** Funnels: each step's visitors, drop-off, conversion from step 1 and the median time to reach it. */
export function FunnelsPanel({
  apiBase,
  siteId,
  params,
}: {
  apiBase: string;
  siteId: string;
  params: DashboardParams;
}) {
  const { q, exportHref } = useInsights(apiBase, params, { kind: 'funnels' });
  const [index, setIndex] = useState(0);
  const funnels: FunnelReport[] = q.data?.kind === 'funnels' ? q.data.funnels : [];
  const f = funnels[Math.min(index, Math.max(0, funnels.length - 1))];
  return (
    <Panel
      title="Funnels"
      testId="panel-funnels"
      siteId={siteId}
      updatedAt={q.dataUpdatedAt}
      csv={exportHref}
      tabs={
        funnels.length > 1 ? (
          <select
            aria-label="Funnel"
            className="rounded-md border border-slate-200 bg-white px-2 py-1 text-xs"
            value={index}
            onChange={(e) => setIndex(Number(e.target.value))}
          >
            {funnels.map((x, i) => (
              <option key={x.id} value={i}>
                {x.name}
              </option>
            ))}
          </select>
        ) : undefined
      }
      note={
        f
          ? `${f.name}: steps completed in order ${f.scope === 'visit' ? 'within one visit' : `within ${f.windowMinutes} min of the first`}; visitors whose attempt started in the range. Live: open attempts count as far as they got.`
          : undefined
      }
    >
      <Body q={q} empty="No funnels yet. Define one on the Goals page." filtered={false}>
        {() =>
          f ? (
            <ol className="space-y-2 p-2" data-testid="funnel-steps">
              {f.steps.map((s, i) => (
                <li key={i} data-testid="funnel-step">
                  <div className="flex items-baseline justify-between gap-2 text-sm">
                    <span className="min-w-0 truncate text-slate-700">
                      <span className="mr-1 text-slate-400">{i + 1}.</span>
                      {s.label}
                    </span>
                    <span className="shrink-0 tabular-nums text-slate-800">
                      <span data-testid="funnel-step-visitors">{formatExact(s.visitors)}</span>
                      <span className="ml-2 text-xs text-slate-500">{formatPercent(s.conversion, 1)}</span>
                    </span>
                  </div>
                  <div className="mt-1 h-2 rounded bg-slate-100">
                    <div className="h-2 rounded bg-indigo-500" style={{ width: `${(s.conversion ?? 0) * 100}%` }} />
                  </div>
                  {i > 0 && (
                    <p className="mt-0.5 text-[11px] text-slate-500">
                      −{formatExact(s.dropOff)} dropped (
                      {formatPercent(s.fromPrevious === null ? null : 1 - s.fromPrevious, 0)}) · median{' '}
                      {formatDuration(s.medianMsFromStart)} from step 1
                    </p>
                  )}
                </li>
              ))}
            </ol>
          ) : null
        }
      </Body>
    </Panel>
  );
}
