'use client';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { api } from '../api';
import { Button } from '../ui/button';

// What a site hands out and can take back (API keys, share links): one row each, and one way to
// revoke, so the two lists look and behave alike.

const tagTone = {
  rose: 'bg-rose-50 text-rose-700 ring-rose-200',
  amber: 'bg-amber-50 text-amber-800 ring-amber-200',
};

/** A small label after a row's title ("revoked", "password"). */
export function Tag({ tone, children }: { tone: keyof typeof tagTone; children: ReactNode }) {
  return (
    <span className={`ml-1 rounded px-1.5 py-0.5 text-[10px] font-medium ring-1 ${tagTone[tone]}`}>{children}</span>
  );
}

/** Revokes `${collection}/${id}` (DELETE), then reloads the list under `queryKey`. */
export function useRevoke(collection: string, queryKey: readonly unknown[]) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api(`${collection}/${id}`, { method: 'DELETE' }),
    onSuccess: () => client.invalidateQueries({ queryKey }),
  });
}

/** One row: its label (and tag), a detail line, the row's own actions, then Revoke unless it is revoked already. */
export function RevocableRow({
  id,
  label,
  tag,
  detail,
  actions,
  revoked = false,
  revoke,
}: {
  id: string;
  label: ReactNode;
  tag?: ReactNode;
  detail: ReactNode;
  actions?: ReactNode;
  revoked?: boolean;
  revoke: ReturnType<typeof useRevoke>;
}) {
  return (
    <li className="flex flex-wrap items-center gap-2 px-3 py-2">
      <div className="min-w-0 flex-1">
        <p className="text-sm font-medium text-slate-800">
          {label} {tag}
        </p>
        {detail}
      </div>
      {actions}
      {!revoked && (
        <Button
          variant="ghost"
          size="sm"
          className="text-rose-600 hover:bg-rose-50"
          onClick={() => revoke.mutate(id)}
          disabled={revoke.isPending}
        >
          Revoke
        </Button>
      )}
    </li>
  );
}
