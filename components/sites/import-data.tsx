'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ImportView } from '@/lib/imports/manage';
import { api } from '../api';
import { Button } from '../ui/button';
import { Field, Select } from '../ui/field';
import { Notice } from '../ui/states';

// Bring history from another tool: upload its export, watch the progress, read the report.

const sources = [
  { id: 'plausible', label: 'Plausible (CSV export, .zip)', accept: '.zip,.csv' },
  { id: 'umami', label: 'Umami (website_event .csv)', accept: '.csv' },
  { id: 'ga4', label: 'Google Analytics 4 (BigQuery export, .json / .ndjson)', accept: '.json,.ndjson,.jsonl' },
] as const;

export function ImportData({ siteId }: { siteId: string }) {
  const [source, setSource] = useState<(typeof sources)[number]['id']>('plausible');
  const [list, setList] = useState<ImportView[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const file = useRef<HTMLInputElement>(null);
  const load = useCallback(
    () =>
      void api<{ imports: ImportView[] }>(`/api/sites/${siteId}/imports`)
        .then((r) => setList(r.imports))
        .catch(() => undefined),
    [siteId],
  );
  useEffect(load, [load]);
  useEffect(() => {
    if (!list.some((i) => i.status === 'pending' || i.status === 'running')) return;
    const t = setInterval(load, 1000);
    return () => clearInterval(t);
  }, [list, load]);

  async function upload() {
    const f = file.current?.files?.[0];
    if (!f) return setError('Choose the export file first');
    setBusy(true);
    setError(null);
    try {
      const created = await api<{ import: ImportView }>(
        `/api/sites/${siteId}/imports?${new URLSearchParams({ source, filename: f.name })}`,
        { method: 'POST', body: f, headers: { 'Content-Type': 'application/octet-stream' } },
      );
      if (file.current) file.current.value = '';
      // Shown at once from the answer (queued, 0 %), which also starts the polling: the list no
      // longer depends on the next read succeeding — one that failed left the import unseen.
      setList((l) => [created.import, ...l.filter((i) => i.id !== created.import.id)]);
      load();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }
  return (
    <div className="space-y-3 text-sm" data-testid="import-data">
      <Field label="From">
        <Select value={source} onChange={(e) => setSource(e.target.value as typeof source)}>
          {sources.map((s) => (
            <option key={s.id} value={s.id}>
              {s.label}
            </option>
          ))}
        </Select>
      </Field>
      <input
        ref={file}
        type="file"
        accept={sources.find((s) => s.id === source)!.accept}
        aria-label="Export file"
        className="block w-full text-sm"
      />
      <Button variant="secondary" disabled={busy} onClick={() => void upload()}>
        {busy ? 'Uploading…' : 'Import'}
      </Button>
      {error && <Notice tone="error">{error}</Notice>}
      <ul className="space-y-2">
        {list.map((i) => (
          <li key={i.id} className="rounded-lg p-2 ring-1 ring-slate-200">
            <div className="flex justify-between gap-2">
              <span className="truncate">{i.filename}</span>
              <span className="text-slate-500">{i.status}</span>
            </div>
            <div
              className="mt-1 h-1.5 rounded bg-slate-100"
              role="progressbar"
              aria-valuenow={Math.round(i.progress * 100)}
              aria-valuemin={0}
              aria-valuemax={100}
            >
              <div className="h-1.5 rounded bg-indigo-500" style={{ width: `${Math.round(i.progress * 100)}%` }} />
            </div>
            <p className="mt-1 text-xs text-slate-500">
              {i.rowsRead.toLocaleString('en-US')} of {i.rowsTotal.toLocaleString('en-US')} rows read ·{' '}
              {i.rowsImported.toLocaleString('en-US')} imported · {i.rowsSkipped.toLocaleString('en-US')} skipped
              {i.firstDay && ` · ${i.firstDay} – ${i.lastDay}`}
              {i.sameFileAs && ' · the same file was imported before: nothing counted twice'}
            </p>
            {Object.keys(i.skipped).length > 0 && (
              <ul className="mt-1 list-disc pl-5 text-xs text-slate-500">
                {Object.entries(i.skipped).map(([reason, n]) => (
                  <li key={reason}>
                    {reason}: {n.toLocaleString('en-US')}
                  </li>
                ))}
              </ul>
            )}
            {i.error && <p className="mt-1 text-xs text-rose-700">{i.error}</p>}
          </li>
        ))}
      </ul>
    </div>
  );
}
