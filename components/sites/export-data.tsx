'use client';
import { useCallback, useEffect, useState } from 'react';
import type { ExportView } from '@/lib/exports/background';
import { api } from '../api';
import { Button, buttonClass } from '../ui/button';
import { Field, Input, Select } from '../ui/field';
import { Notice } from '../ui/states';

// Export a site's data (owners): download now (streamed) or prepare in the background, which
// notifies in the app and by email with a link that works for 7 days.

export function ExportData({ siteId, today }: { siteId: string; today: string }) {
  const [kind, setKind] = useState<'events' | 'rollups'>('events');
  const [format, setFormat] = useState<'csv' | 'ndjson'>('csv');
  const [from, setFrom] = useState(today.slice(0, 8) + '01');
  const [to, setTo] = useState(today);
  const [list, setList] = useState<ExportView[]>([]);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(
    () =>
      void api<{ exports: ExportView[] }>(`/api/sites/${siteId}/exports`)
        .then((r) => setList(r.exports))
        .catch(() => undefined),
    [siteId],
  );
  useEffect(load, [load]);
  useEffect(() => {
    if (!list.some((e) => e.status === 'pending' || e.status === 'running')) return;
    const t = setInterval(load, 2000);
    return () => clearInterval(t);
  }, [list, load]);
  const fmt = kind === 'rollups' ? 'csv' : format;
  const query = new URLSearchParams({ kind, format: fmt, from, to }).toString();

  async function background() {
    setError(null);
    try {
      await api(`/api/sites/${siteId}/exports`, { method: 'POST', json: { kind, format: fmt, from, to } });
      load();
    } catch (e) {
      setError((e as Error).message);
    }
  }
  return (
    <div className="space-y-3 text-sm" data-testid="export-data">
      <div className="grid gap-3 sm:grid-cols-2">
        <Field label="Data">
          <Select value={kind} onChange={(e) => setKind(e.target.value as 'events' | 'rollups')}>
            <option value="events">Raw events</option>
            <option value="rollups">Daily totals</option>
          </Select>
        </Field>
        <Field label="Format">
          <Select
            value={fmt}
            disabled={kind === 'rollups'}
            onChange={(e) => setFormat(e.target.value as 'csv' | 'ndjson')}
          >
            <option value="csv">CSV</option>
            <option value="ndjson">NDJSON</option>
          </Select>
        </Field>
        <Field label="From">
          <Input type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </Field>
        <Field label="To">
          <Input type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        </Field>
      </div>
      <div className="flex flex-wrap gap-2">
        <a className={buttonClass('secondary')} href={`/api/sites/${siteId}/exports/download?${query}`}>
          Download now
        </a>
        <Button variant="secondary" onClick={() => void background()}>
          Prepare in the background
        </Button>
      </div>
      {error && <Notice tone="error">{error}</Notice>}
      {list.length > 0 && (
        <ul className="divide-y divide-slate-100">
          {list.map((e) => (
            <li key={e.id} className="flex items-center justify-between gap-2 py-1.5">
              <span>
                {e.kind === 'events' ? 'Raw events' : 'Daily totals'} {e.from} – {e.to} ({e.format.toUpperCase()})
              </span>
              {e.link ? (
                <a className="text-indigo-600 underline" href={e.link}>
                  Download ({e.rows.toLocaleString('en-US')} rows)
                </a>
              ) : (
                <span className="text-slate-500">
                  {e.status === 'failed' ? e.error : e.status === 'expired' ? 'link expired' : 'preparing…'}
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
