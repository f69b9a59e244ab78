'use client';
import Link from 'next/link';
import { useEffect, useState } from 'react';
import { io } from 'socket.io-client';
import { api } from '@/components/api';
import type { NotificationView } from '@/lib/notify/list';
import type { PushedNotification } from '@/lib/notify/in-app';

// The unread count in the header, and a toast when an alert arrives over Socket.IO (pushed by the
// live relay to this user's sockets). The list itself lives at /notifications.

export function NotificationBell() {
  const [unread, setUnread] = useState(0);
  const [toast, setToast] = useState<PushedNotification | null>(null);
  useEffect(() => {
    void api<{ unread: number; items: NotificationView[] }>('/api/notifications')
      .then((r) => setUnread(r.unread))
      .catch(() => undefined);
    const socket = io({ path: '/socket.io', transports: ['websocket'] });
    let hide: ReturnType<typeof setTimeout> | undefined;
    socket.on('notification', (n: PushedNotification) => {
      setUnread((u) => u + 1);
      setToast(n);
      clearTimeout(hide);
      hide = setTimeout(() => setToast(null), 15_000);
    });
    return () => {
      clearTimeout(hide);
      socket.disconnect();
    };
  }, []);
  return (
    <>
      <Link
        href="/notifications"
        className="relative rounded-lg px-2 py-1.5 text-sm text-slate-600 hover:bg-slate-100"
        aria-label={`Notifications, ${unread} unread`}
        data-testid="notification-bell"
      >
        <svg viewBox="0 0 20 20" className="inline h-5 w-5" fill="currentColor" aria-hidden>
          <path d="M10 2a6 6 0 0 0-6 6v3.6l-1.7 2.6A1 1 0 0 0 3.1 16h13.8a1 1 0 0 0 .8-1.8L16 11.6V8a6 6 0 0 0-6-6Zm0 18a2.5 2.5 0 0 0 2.4-2h-4.8A2.5 2.5 0 0 0 10 20Z" />
        </svg>
        {unread > 0 && (
          <span
            className="absolute -right-0.5 -top-0.5 min-w-4 rounded-full bg-rose-600 px-1 text-center text-[10px] font-semibold leading-4 text-white"
            data-testid="notification-count"
          >
            {unread}
          </span>
        )}
      </Link>
      {toast && (
        <div
          role="alert"
          className="fixed bottom-4 right-4 z-50 max-w-sm rounded-xl bg-white p-4 shadow-lg ring-1 ring-rose-200"
          data-testid="notification-toast"
        >
          <p className="text-sm font-semibold text-rose-700">{toast.title}</p>
          <p className="mt-1 text-sm text-slate-700">{toast.body}</p>
          <div className="mt-2 flex gap-3 text-xs">
            {toast.link && (
              <Link href={toast.link} className="text-indigo-600 hover:underline">
                Open
              </Link>
            )}
            <button type="button" className="text-slate-500 hover:underline" onClick={() => setToast(null)}>
              Dismiss
            </button>
          </div>
        </div>
      )}
    </>
  );
}
