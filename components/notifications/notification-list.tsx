'use client';
import Link from 'next/link';
import { useCallback, useEffect, useState } from 'react';
import { api } from '@/components/api';
import { Button } from '@/components/ui/button';
import { EmptyState } from '@/components/ui/states';
import type { NotificationView } from '@/lib/notify/list';

export function NotificationList() {
  const [data, setData] = useState<{ unread: number; items: NotificationView[] } | null>(null);
  const load = useCallback(
    () => api<{ unread: number; items: NotificationView[] }>('/api/notifications').then(setData),
    [],
  );
  useEffect(() => {
    void load().catch(() => undefined);
  }, [load]);
  const read = async (body: { ids?: string[]; all?: boolean }) => {
    await api('/api/notifications/read', { method: 'POST', json: body });
    await load();
  };
  if (!data) return <p className="text-sm text-slate-500">Loading…</p>;
  if (data.items.length === 0)
    return <EmptyState title="No notifications">Alerts you receive in the app appear here.</EmptyState>;
  return (
    <div className="space-y-3">
      <div className="flex items-center justify-between">
        <p className="text-sm text-slate-600">{data.unread} unread</p>
        {data.unread > 0 && (
          <Button size="sm" variant="secondary" onClick={() => void read({ all: true })}>
            Mark all read
          </Button>
        )}
      </div>
      <ul
        className="divide-y divide-slate-100 rounded-xl bg-white ring-1 ring-slate-200"
        data-testid="notification-list"
      >
        {data.items.map((n) => (
          <li key={n.id} className={`flex items-start justify-between gap-3 p-3 ${n.read ? '' : 'bg-indigo-50/50'}`}>
            <div className="min-w-0">
              <p className={`text-sm ${n.read ? 'text-slate-700' : 'font-semibold text-slate-900'}`}>{n.title}</p>
              <p className="text-sm text-slate-600">{n.body}</p>
              <p className="text-xs text-slate-400">
                {new Date(n.createdAt).toLocaleString()}
                {n.link && (
                  <>
                    {' · '}
                    <Link href={n.link} className="text-indigo-600 hover:underline">
                      Open
                    </Link>
                  </>
                )}
              </p>
            </div>
            {!n.read && (
              <Button size="sm" variant="ghost" onClick={() => void read({ ids: [n.id] })}>
                Mark read
              </Button>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
