'use client';
import { useEffect, useMemo, useState } from 'react';
import { io } from 'socket.io-client';

// The live header: pageviews in the last 30 minutes, pushed over Socket.IO as per-minute totals.
// Totals only grow, so keeping the maximum per minute makes late or reordered pushes harmless.

type MinuteCount = { minute: number; pageviews: number };
const WINDOW = 30;
const MINUTE = 60_000;

export function LiveCounter({ siteId, initial }: { siteId: string; initial: MinuteCount[] }) {
  const [minutes, setMinutes] = useState(() => new Map(initial.map((m) => [m.minute, m.pageviews])));
  const [status, setStatus] = useState<'connecting' | 'live' | 'offline'>('connecting');
  const [updatedAt, setUpdatedAt] = useState<number | null>(null);
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    const merge = (counts: MinuteCount[]) =>
      setMinutes((prev) => {
        const next = new Map(prev);
        for (const c of counts) next.set(c.minute, Math.max(next.get(c.minute) ?? 0, c.pageviews));
        return next;
      });
    const socket = io({ path: '/socket.io', transports: ['websocket'] });
    socket.on('connect', () => {
      // The join answer carries current totals, so a reconnect catches up on anything missed.
      socket.emit('join', siteId, (res: { ok: boolean; minutes?: MinuteCount[] }) => {
        setStatus(res?.ok ? 'live' : 'offline');
        if (res?.minutes) merge(res.minutes);
      });
    });
    socket.on('disconnect', () => setStatus('offline'));
    socket.on('minute', (m: MinuteCount & { siteId: string }) => {
      if (m.siteId !== siteId) return;
      merge([m]);
      setUpdatedAt(Date.now());
    });
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => {
      clearInterval(tick);
      socket.disconnect();
    };
  }, [siteId]);

  const bars = useMemo(() => {
    const current = Math.floor(now / MINUTE) * MINUTE;
    return Array.from({ length: WINDOW }, (_, i) => {
      const minute = current - (WINDOW - 1 - i) * MINUTE;
      return { minute, pageviews: minutes.get(minute) ?? 0 };
    });
  }, [minutes, now]);
  const total = bars.reduce((n, b) => n + b.pageviews, 0);
  const peak = Math.max(1, ...bars.map((b) => b.pageviews));

  return (
    <div className="rounded-xl bg-white p-5 ring-1 ring-slate-200">
      <div className="flex items-start justify-between gap-4">
        <div>
          <p className="text-sm font-medium text-slate-500">Pageviews, last 30 minutes</p>
          <p data-testid="pageviews-30m" className="mt-1 text-5xl font-semibold tabular-nums tracking-tight">
            {total.toLocaleString('en-US')}
          </p>
        </div>
        <div className="text-right">
          <span
            data-testid="live-status"
            className={`inline-flex items-center gap-1.5 rounded-full px-2.5 py-1 text-xs font-medium ${
              status === 'live' ? 'bg-emerald-50 text-emerald-700' : status === 'connecting' ? 'bg-slate-100 text-slate-600' : 'bg-rose-50 text-rose-700'
            }`}
          >
            <span className={`h-2 w-2 rounded-full ${status === 'live' ? 'animate-pulse bg-emerald-500' : status === 'connecting' ? 'bg-slate-400' : 'bg-rose-500'}`} />
            {status === 'live' ? 'Live' : status === 'connecting' ? 'Connecting…' : 'Offline — reconnecting'}
          </span>
          <p className="mt-2 text-xs text-slate-400">{updatedAt ? `updated ${Math.max(0, (now - updatedAt) / 1000).toFixed(0)} s ago` : 'waiting for events…'}</p>
        </div>
      </div>
      <div className="mt-6 flex h-24 items-end gap-1" aria-label="Pageviews per minute">
        {bars.map((b) => (
          <div key={b.minute} title={`${new Date(b.minute).toLocaleTimeString()}: ${b.pageviews}`} className="flex-1 rounded-t bg-indigo-500/80" style={{ height: `${Math.max(2, (b.pageviews / peak) * 100)}%`, opacity: b.pageviews ? 1 : 0.25 }} />
        ))}
      </div>
      <div className="mt-1 flex justify-between text-[10px] text-slate-400">
        <span>30 min ago</span>
        <span>now</span>
      </div>
    </div>
  );
}
