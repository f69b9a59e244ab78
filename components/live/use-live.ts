'use client';
import { useEffect, useState } from 'react';
import { io } from 'socket.io-client';
import type { LiveSnapshot } from '@/lib/live/snapshot';
import type { SiteFreshnessNow } from '@/lib/sla/behind';
import { publishFreshness } from './freshness-store';

// The live connection: one Socket.IO socket, `join` answered with the current snapshot, then a
// `live` push whenever the site changes (at most every 100–250 ms, lib/live/push-pace.ts). No polling. Members authenticate
// with their session cookie; a share link's dashboard with its token.

export type LiveStatus = 'connecting' | 'live' | 'offline' | 'denied';

export function useLive(siteId: string, initial: LiveSnapshot, shareToken?: string) {
  const [snapshot, setSnapshot] = useState<LiveSnapshot>(initial);
  const [status, setStatus] = useState<LiveStatus>('connecting');
  const [receivedAt, setReceivedAt] = useState<number | null>(null);

  useEffect(() => {
    publishFreshness(siteId, { site: initial.freshness, liveReceivedAt: initial.latestReceivedAt });
    const socket = io({
      path: '/socket.io',
      transports: ['websocket'],
      auth: shareToken ? { share: shareToken } : undefined,
    });
    const accept = (s: LiveSnapshot) => {
      setSnapshot((prev) => (s.at >= prev.at ? s : prev));
      setReceivedAt(Date.now());
      publishFreshness(siteId, { site: s.freshness, liveReceivedAt: s.latestReceivedAt });
    };
    socket.on('connect', () => {
      socket.emit('join', siteId, (res: { ok: boolean; snapshot?: LiveSnapshot }) => {
        setStatus(res?.ok ? 'live' : 'denied');
        if (res?.snapshot) accept(res.snapshot);
      });
    });
    socket.on('connect_error', () => setStatus('offline'));
    socket.on('disconnect', () => setStatus('offline'));
    socket.on('revoked', () => setStatus('denied'));
    // The pipeline's freshness, pushed every 2 s even when nothing changes (a stopped worker sends no notices).
    socket.on('freshness', (f: SiteFreshnessNow & { siteId: string }) => {
      if (f.siteId === siteId)
        publishFreshness(siteId, {
          site: { ms: f.ms, measuredAt: f.measuredAt, targetMs: f.targetMs, visibleReceivedAt: f.visibleReceivedAt },
        });
    });
    socket.on('live', (s: LiveSnapshot) => {
      if (s.siteId !== siteId) return;
      accept(s);
      window.dispatchEvent(new CustomEvent('eddy:live', { detail: siteId }));
    });
    return () => {
      socket.disconnect();
    };
  }, [siteId, shareToken]); // `initial` only seeds the store: a new server render does not reconnect

  return { snapshot, status, receivedAt };
}

/**
 * Re-renders every `ms` and returns the current time (for "updated 0.4 s ago" and moving charts).
 * `initial` is the time the server rendered with (e.g. the server snapshot's `at`): hydration must
 * render what the server did, and a clock read in both places differs — under load by seconds,
 * enough to move the live chart by a minute and fail hydration (React error 418). The real
 * clock takes over right after mount.
 */
export function useNow(ms: number, initial?: number): number {
  const [now, setNow] = useState(() => initial ?? Date.now());
  useEffect(() => {
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
