'use client';
import { useCallback, useEffect, useState } from 'react';
import { api } from '@/components/api';
import { Card } from '@/components/ui/card';
import { Field, Select } from '@/components/ui/field';
import { Notice } from '@/components/ui/states';
import type { SlaReport } from '@/lib/sla/report';
import { SLA_TARGETS_MS, formatDuration } from '@/lib/sla/targets';
import { formatBehind, type SlaState } from '@/lib/sla/behind';
import { countOf } from '../format';

// The freshness SLA of one site: target, current freshness, compliance, the last hour per minute
// and the breach timeline with causes. Refreshed every 2 s (the measurement runs every 2 s).

const pct = (r: number | null) => (r === null ? '—' : `${(Math.floor(r * 10000) / 100).toFixed(2)} %`);

function stateText(s: SlaState, cause: string | null): string {
  switch (s.kind) {
    case 'no target':
      return 'no target set';
    case 'not measured':
      return s.sinceMs === null
        ? 'not measured yet (is the alerts worker running?)'
        : `not measured for ${formatDuration(s.sinceMs)} (is the alerts worker running?)`;
    case 'breached':
      return `breached${cause ? ` (${cause})` : ''}`;
    case 'within':
      return 'within target';
  }
}

export function SlaView({ siteId, canEdit }: { siteId: string; canEdit: boolean }) {
  const [r, setR] = useState<SlaReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => api<SlaReport>(`/api/sites/${siteId}/sla`).then(setR), [siteId]);
  useEffect(() => {
    void load().catch(() => undefined);
    const t = setInterval(() => void load().catch(() => undefined), 2000);
    return () => clearInterval(t);
  }, [load]);
  if (!r) return <p className="text-sm text-slate-500">Loading…</p>;
  const setTarget = async (targetMs: number) => {
    try {
      setR(await api<SlaReport>(`/api/sites/${siteId}/sla`, { method: 'PUT', json: { targetMs } }));
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const max = Math.max(r.targetMs ?? 0, ...r.lastHour.map((m) => m.freshnessMs ?? 0), 1);
  return (
    <div className="space-y-5">
      <div className="grid gap-4 sm:grid-cols-4">
        <Card className="sm:col-span-1">
          <p className="text-xs uppercase tracking-wide text-slate-500">Freshness now</p>
          <p
            className={`mt-1 text-2xl font-semibold ${r.current.state.kind === 'breached' ? 'text-rose-600' : r.current.state.kind === 'not measured' ? 'text-amber-600' : 'text-slate-900'}`}
            data-testid="sla-current"
          >
            {r.current.state.kind === 'not measured'
              ? 'unknown'
              : r.current.ms === null
                ? 'up to date'
                : formatBehind(r.current.ms)}
          </p>
          <p className="text-xs text-slate-500" data-testid="sla-state" data-state={r.current.state.kind}>
            {stateText(r.current.state, r.current.cause)}
          </p>
        </Card>
        {r.compliance.map((c) => (
          <Card key={c.window}>
            <p className="text-xs uppercase tracking-wide text-slate-500">Compliance {c.window}</p>
            <p className="mt-1 text-2xl font-semibold text-slate-900" data-testid={`sla-compliance-${c.window}`}>
              {pct(c.ratio)}
            </p>
            <p className="text-xs text-slate-500">
              {c.breachedMinutes} of {countOf(c.measuredMinutes, 'measured minute')} breached
            </p>
          </Card>
        ))}
      </div>
      <div className="grid gap-5 lg:grid-cols-3">
        <Card title="Target" className="self-start">
          <Field
            label="p95 of events visible on the dashboard within"
            hint="Measured from the collect acknowledgement to the commit and the live push that includes the event."
          >
            <Select
              value={r.targetMs ?? ''}
              disabled={!canEdit}
              onChange={(e) => void setTarget(Number(e.target.value))}
              data-testid="sla-target"
            >
              {r.targetMs === null && <option value="">Choose a target…</option>}
              {SLA_TARGETS_MS.map((t) => (
                <option key={t} value={t}>
                  {formatDuration(t)}
                </option>
              ))}
            </Select>
          </Field>
          {error && <Notice tone="error">{error}</Notice>}
        </Card>
        <Card title="Last hour (worst freshness per minute)" className="lg:col-span-2">
          <div className="flex h-32 items-end gap-px" aria-label="Freshness per minute">
            {r.lastHour.map((m) => (
              <div
                key={m.minute}
                title={`${new Date(m.minute).toLocaleTimeString()}: ${m.freshnessMs === null ? 'no data' : formatDuration(m.freshnessMs)}`}
                className={`flex-1 rounded-t-sm ${m.freshnessMs === null ? 'bg-slate-100' : m.breached ? 'bg-rose-500' : 'bg-emerald-500'}`}
                style={{ height: `${m.freshnessMs === null ? 4 : Math.max(4, (m.freshnessMs / max) * 100)}%` }}
              />
            ))}
          </div>
          {r.targetMs !== null && (
            <p className="mt-2 text-xs text-slate-500">Target {formatDuration(r.targetMs)} · red minutes broke it</p>
          )}
        </Card>
      </div>
      <Card title="Compliance per day (minutes within target)">
        <div className="flex h-24 items-end gap-1" aria-label="Compliance per day" data-testid="sla-daily">
          {r.daily.map((d) => (
            <div
              key={d.day}
              data-testid="sla-day"
              data-ratio={d.ratio ?? ''}
              title={`${new Intl.DateTimeFormat('en-GB', { timeZone: r.timeZone, day: 'numeric', month: 'short' }).format(new Date(d.day))}: ${
                d.ratio === null
                  ? 'not measured'
                  : `${pct(d.ratio)} of ${countOf(d.measuredMinutes, 'measured minute')} within target`
              }`}
              className={`flex-1 rounded-t-sm ${d.ratio === null ? 'bg-slate-100' : d.ratio >= 0.999 ? 'bg-emerald-500' : d.ratio >= 0.99 ? 'bg-amber-400' : 'bg-rose-500'}`}
              style={{ height: `${d.ratio === null ? 4 : Math.max(4, d.ratio * 100)}%` }}
            />
          ))}
        </div>
        <div className="mt-2 flex justify-between text-xs text-slate-500">
          <span>
            {new Intl.DateTimeFormat('en-GB', { timeZone: r.timeZone, day: 'numeric', month: 'short' }).format(
              new Date(r.daily[0]!.day),
            )}
          </span>
          <span data-testid="sla-today">
            Today: {pct(r.daily[r.daily.length - 1]!.ratio)}
            {r.daily[r.daily.length - 1]!.measuredMinutes
              ? ` of ${countOf(r.daily[r.daily.length - 1]!.measuredMinutes, 'measured minute')}`
              : ''}
          </span>
        </div>
      </Card>
      <Card title="Breaches">
        {r.breaches.length === 0 ? (
          <p className="text-sm text-slate-500">No breaches.</p>
        ) : (
          <ol className="divide-y divide-slate-100" data-testid="sla-breaches">
            {r.breaches.map((b) => (
              <li
                key={b.id}
                className="flex flex-wrap items-baseline justify-between gap-2 py-2 text-sm"
                data-testid="sla-breach"
                data-open={b.endedAt === null}
              >
                <span>
                  <span
                    className={`mr-2 rounded px-1.5 py-0.5 text-xs font-medium ${b.endedAt === null ? 'bg-rose-100 text-rose-700' : 'bg-slate-100 text-slate-700'}`}
                  >
                    {b.endedAt === null ? 'ongoing' : 'resolved'}
                  </span>
                  {b.cause}: worst {formatDuration(b.worstMs)} behind (target {formatDuration(b.targetMs)})
                </span>
                <span className="text-xs text-slate-500">
                  {new Date(b.startedAt).toLocaleString()}
                  {b.endedAt !== null
                    ? ` → ${new Date(b.endedAt).toLocaleTimeString()} (${formatDuration(b.endedAt - b.startedAt)})`
                    : ''}
                </span>
              </li>
            ))}
          </ol>
        )}
      </Card>
    </div>
  );
}
