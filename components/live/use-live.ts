'use client';
import { useEffect, useState } from 'react';
import { io } from 'socket.io-client';
import type { LiveSnapshot } from '@/lib/live/snapshot';

// The live connection: one Socket.IO socket, `join` answered with the current snapshot, then a
// `live` push whenever the site changes (at most every 250 ms). No polling. Members authenticate
// with their session cookie; a share link's dashboard with its token.

export type LiveStatus = 'connecting' | 'live' | 'offline' | 'denied';

export function useLive(siteId: string, initial: LiveSnapshot, shareToken?: string) {
  const [snapshot, setSnapshot] = useState<LiveSnapshot>(initial);
  const [status, setStatus] = useState<LiveStatus>('connecting');
  const [receivedAt, setReceivedAt] = useState<number | null>(null);
  const [pushes, setPushes] = useState(0);

  useEffect(() => {
    const socket = io({ path: '/socket.io', transports: ['websocket'], auth: shareToken ? { share: shareToken } : undefined });
    const accept = (s: LiveSnapshot) => {
      setSnapshot((prev) => (s.at >= prev.at ? s : prev));
      setReceivedAt(Date.now());
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
    socket.on('live', (s: LiveSnapshot) => {
      if (s.siteId !== siteId) return;
      accept(s);
      setPushes((n) => n + 1);
      window.dispatchEvent(new CustomEvent('eddy:live', { detail: siteId }));
    });
    return () => {
      socket.disconnect();
    };
  }, [siteId, shareToken]);

  return { snapshot, status, receivedAt, pushes };
}

/** Re-renders every `ms` and returns the current time (for "updated 0.4 s ago" and moving charts). */
export function useNow(ms: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
