'use client';
import { useEffect, useState } from 'react';
import { api } from '@/components/api';
import { Card } from '@/components/ui/card';
import type { PipelineOverview } from '@/lib/pipeline/overview';

// Live (every 2 s) operator's view: workers, throughput, and one row per job partition.

const ago = (now: number, t: number) => {
  const s = Math.max(0, (now - t) / 1000);
  return s < 60
    ? `${s.toFixed(1)} s ago`
    : s < 3600
      ? `${Math.round(s / 60)} min ago`
      : `${Math.round(s / 3600)} h ago`;
};

const bytes = (n: number) =>
  n < 1024
    ? `${n} B`
    : n < 1024 ** 2
      ? `${(n / 1024).toFixed(1)} KiB`
      : n < 1024 ** 3
        ? `${(n / 1024 ** 2).toFixed(1)} MiB`
        : `${(n / 1024 ** 3).toFixed(2)} GiB`;

export function PipelineView() {
  const [p, setP] = useState<PipelineOverview | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const load = () =>
      api<PipelineOverview>('/api/pipeline')
        .then((x) => {
          setP(x);
          setError(null);
        })
        .catch((e: Error) => setError(e.message));
    void load();
    const t = setInterval(() => void load(), 2000);
    return () => clearInterval(t);
  }, []);
  if (error && !p) return <p className="text-sm text-rose-600">{error}</p>;
  if (!p) return <p className="text-sm text-slate-500">Loading…</p>;
  const jobs = [...new Set(p.partitions.map((r) => r.job))];
  return (
    <div className="space-y-5">
      <div className="grid gap-4 sm:grid-cols-4">
        <Card>
          <p className="text-xs uppercase tracking-wide text-slate-500">Events in</p>
          <p className="text-2xl font-semibold">{p.eventsInPerSecond.toFixed(1)}/s</p>
          <p className="text-xs text-slate-500">accepted by collect, last full minute</p>
        </Card>
        <Card>
          <p className="text-xs uppercase tracking-wide text-slate-500">Events out</p>
          <p className="text-2xl font-semibold">{p.eventsOutPerSecond.toFixed(1)}/s</p>
          <p className="text-xs text-slate-500">committed by rollups, last full minute</p>
        </Card>
        <Card>
          <p className="text-xs uppercase tracking-wide text-slate-500">Dead letters</p>
          <p className="text-2xl font-semibold">{p.deadLetters.reduce((s, d) => s + d.count, 0)}</p>
          <p className="text-xs text-slate-500">
            {p.deadLetters.map((d) => `${d.job}: ${d.count}`).join(' · ') || 'none'}
          </p>
        </Card>
        <Card>
          <p className="text-xs uppercase tracking-wide text-slate-500">Late events</p>
          <p className="text-2xl font-semibold">{p.lateEvents.pending + p.lateEvents.reconciled}</p>
          <p className="text-xs text-slate-500">
            {p.lateEvents.pending} waiting · {p.lateEvents.reconciled} reconciled
          </p>
        </Card>
      </div>
      <Card title="Worker processes" padded={false}>
        <table className="w-full text-left text-sm">
          <thead className="text-xs text-slate-500">
            <tr>
              <th className="px-4 py-2">Worker</th>
              <th className="px-4 py-2">Jobs</th>
              <th className="px-4 py-2">Started</th>
              <th className="px-4 py-2">Heartbeat</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {p.workers.map((w) => (
              <tr key={w.workerId}>
                <td className="px-4 py-2 font-mono text-xs">
                  <span
                    className={`mr-2 inline-block h-2 w-2 rounded-full ${w.alive ? 'bg-emerald-500' : 'bg-rose-500'}`}
                  />
                  {w.host}:{w.pid}
                </td>
                <td className="px-4 py-2">{w.jobs.join(', ')}</td>
                <td className="px-4 py-2 text-slate-500">{ago(p.at, w.startedAt)}</td>
                <td className="px-4 py-2 text-slate-500">{ago(p.at, w.seenAt)}</td>
              </tr>
            ))}
            {p.workers.length === 0 && (
              <tr>
                <td className="px-4 py-2 text-slate-500" colSpan={4}>
                  No worker processes are running.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </Card>
      {jobs.map((job) => (
        <Card
          key={job}
          title={
            p.partitions.some((r) => r.job === job && r.source === 'bus')
              ? `Job ${job} · consumer group job-${job}`
              : `Job ${job} · one worker at a time (PostgreSQL lock)`
          }
          padded={false}
        >
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm" data-testid={`pipeline-job-${job}`}>
              <thead className="text-xs text-slate-500">
                <tr>
                  <th className="px-4 py-2">Partition</th>
                  <th className="px-4 py-2">Owner</th>
                  <th className="px-4 py-2 text-right">Next offset</th>
                  <th className="px-4 py-2 text-right">Lag</th>
                  <th className="px-4 py-2">Watermark</th>
                  <th className="px-4 py-2">Last checkpoint</th>
                  <th className="px-4 py-2 text-right">Checkpoint size</th>
                  <th className="px-4 py-2 text-right">Dimension version</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {p.partitions
                  .filter((r) => r.job === job)
                  .map((r) => (
                    <tr key={`${r.topic}-${r.partition}`}>
                      <td className="px-4 py-2 font-mono text-xs">
                        {r.topic}/{r.partition}
                      </td>
                      <td className="px-4 py-2 font-mono text-xs" data-testid={`owner-${job}-${r.partition}`}>
                        {r.owner ? (
                          <span title={`assigned ${ago(p.at, r.owner.assignedAt)}`}>
                            <span
                              className={`mr-2 inline-block h-2 w-2 rounded-full ${r.owner.alive ? 'bg-emerald-500' : 'bg-rose-500'}`}
                            />
                            {r.owner.host && r.owner.pid ? `${r.owner.host}:${r.owner.pid}` : r.owner.workerId}
                            {!r.owner.alive && <span className="ml-1 font-sans text-rose-700">not responding</span>}
                          </span>
                        ) : (
                          <span className="font-sans text-slate-500">
                            {r.source === 'bus' ? 'unassigned' : 'any worker, one pass at a time'}
                          </span>
                        )}
                      </td>
                      <td className="px-4 py-2 text-right tabular-nums">{r.nextOffset}</td>
                      <td
                        className={`px-4 py-2 text-right tabular-nums ${r.lag ? 'font-semibold text-amber-700' : ''}`}
                      >
                        {r.lag ?? '—'}
                      </td>
                      <td className="px-4 py-2 tabular-nums">
                        {r.watermark && r.watermark > 0
                          ? `${new Date(r.watermark).toLocaleTimeString()} (${ago(p.at, r.watermark)})`
                          : '—'}
                      </td>
                      <td className="px-4 py-2">
                        {r.checkpointAt === null ? (
                          <span className="text-slate-500">none yet</span>
                        ) : (
                          ago(p.at, r.checkpointAt)
                        )}
                      </td>
                      <td className="px-4 py-2 text-right tabular-nums">
                        {r.checkpointAt === null ? '—' : `${(r.checkpointBytes / 1024).toFixed(1)} KB`}
                      </td>
                      <td className="px-4 py-2 text-right tabular-nums">{r.dimensionVersion ?? '—'}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
        </Card>
      ))}
      <Card title="Raw archive per site" padded={false}>
        <div className="overflow-x-auto">
          <table className="w-full text-sm" data-testid="archive-sizes">
            <thead className="bg-slate-50 text-left text-xs uppercase text-slate-500">
              <tr>
                <th className="px-4 py-2">Site</th>
                <th className="px-4 py-2 text-right">Events</th>
                <th className="px-4 py-2 text-right">Size</th>
                <th className="px-4 py-2">Oldest</th>
                <th className="px-4 py-2">Kept</th>
                <th className="px-4 py-2">Measured</th>
              </tr>
            </thead>
            <tbody>
              {p.archive.map((a) => (
                <tr key={a.siteId} className="border-t border-slate-100">
                  <td className="px-4 py-2">
                    {a.name} <span className="text-slate-500">{a.domain}</span>
                  </td>
                  <td className="px-4 py-2 text-right tabular-nums">{a.rows.toLocaleString('en-US')}</td>
                  <td className="px-4 py-2 text-right tabular-nums">{bytes(a.bytes)}</td>
                  <td className="px-4 py-2">{a.oldest ? new Date(a.oldest).toISOString().slice(0, 10) : '—'}</td>
                  <td className="px-4 py-2">{a.retentionDays === null ? 'forever' : `${a.retentionDays} days`}</td>
                  <td className="px-4 py-2 text-slate-500">
                    {a.measuredAt ? ago(p.at, a.measuredAt) : 'not yet (retention job)'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Card>
      <Card title="Filtered views (this web process)">
        <p className="text-sm" data-testid="filter-engine">
          {p.filterEngine.engine === 'postgres'
            ? 'Computed in PostgreSQL from the fact tables (FILTER_ENGINE=postgres).'
            : p.filterEngine.ready
              ? `Columnar copy ready: loaded ${(p.filterEngine.loaded?.events ?? 0).toLocaleString('en-US')} event and ${(p.filterEngine.loaded?.visits ?? 0).toLocaleString('en-US')} visit facts (and ${(p.filterEngine.loaded?.customEvents ?? 0).toLocaleString('en-US')} custom-event name and property rows) in ${((p.filterEngine.loadMs ?? 0) / 1000).toFixed(1)} s; ${p.filterEngine.reads.toLocaleString('en-US')} loads answered from it, ${p.filterEngine.declined.toLocaleString('en-US')} sent to PostgreSQL.`
              : 'Columnar copy loading: filtered views are computed in PostgreSQL meanwhile.'}
        </p>
      </Card>
      <p className="text-xs text-slate-500">
        Site settings last changed {p.dimensionRefreshedAt ? ago(p.at, p.dimensionRefreshedAt) : 'never'}; workers
        reload them every refresh interval. A partition whose owner is not responding waits for the consumer group to
        expire that member (CONSUMER_SESSION_TIMEOUT_MS) and reassign it.
      </p>
    </div>
  );
}
