'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, fieldError } from '../api';
import { Button, buttonClass } from '../ui/button';
import { Field, Input } from '../ui/field';
import { EmptyState, Notice, QueryList } from '../ui/states';

interface ShareLink {
  id: string;
  token: string;
  label: string;
  hasPassword: boolean;
  createdAt: string;
}

export function ShareLinks({ siteId, baseUrl }: { siteId: string; baseUrl: string }) {
  const client = useQueryClient();
  const key = ['share-links', siteId];
  const links = useQuery({ queryKey: key, queryFn: () => api<{ links: ShareLink[] }>(`/api/sites/${siteId}/share-links`) });
  const [error, setError] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: (body: { label: string; password?: string }) => api<{ link: ShareLink }>(`/api/sites/${siteId}/share-links`, { method: 'POST', json: body }),
    onSuccess: () => client.invalidateQueries({ queryKey: key }),
    onError: (e) => setError(fieldError(e).message),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => api(`/api/sites/${siteId}/share-links/${id}`, { method: 'DELETE' }),
    onSuccess: () => client.invalidateQueries({ queryKey: key }),
  });

  function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setError(null);
    const form = new FormData(e.currentTarget);
    const password = String(form.get('password') ?? '');
    create.mutate({ label: String(form.get('label') ?? ''), ...(password ? { password } : {}) });
    e.currentTarget.reset();
  }

  return (
    <div className="space-y-4">
      <p className="text-sm text-slate-500">Anyone with a link sees a read-only dashboard of this site, live header included. Revoking a link stops it at once.</p>
      <QueryList query={links} items={(d) => d.links} testId="share-links" empty={<EmptyState title="No share links">Create one below to show your stats to someone without an account.</EmptyState>}>
        {(l) => {
          const url = `${baseUrl}/share/${l.token}`;
          return (
            <li key={l.id} className="flex flex-wrap items-center gap-2 px-3 py-2">
              <div className="min-w-0 flex-1">
                <p className="text-sm font-medium text-slate-800">
                  {l.label || 'Untitled link'} {l.hasPassword && <span className="ml-1 rounded bg-amber-50 px-1.5 py-0.5 text-[10px] font-medium text-amber-800 ring-1 ring-amber-200">password</span>}
                </p>
                <a href={url} target="_blank" rel="noreferrer" className="block truncate font-mono text-xs text-indigo-600 hover:underline">
                  {url}
                </a>
              </div>
              <Button variant="secondary" size="sm" onClick={() => void navigator.clipboard?.writeText(url)}>
                Copy
              </Button>
              <Button variant="ghost" size="sm" className="text-rose-600 hover:bg-rose-50" onClick={() => revoke.mutate(l.id)} disabled={revoke.isPending}>
                Revoke
              </Button>
            </li>
          );
        }}
      </QueryList>
      <form onSubmit={onSubmit} className="grid gap-3 sm:grid-cols-2">
        <Field label="Label">
          <Input name="label" maxLength={80} placeholder="For the newsletter team" />
        </Field>
        <Field label="Password (optional)">
          <Input name="password" type="password" minLength={4} maxLength={1024} autoComplete="new-password" />
        </Field>
        <div className="sm:col-span-2">
          <button type="submit" className={buttonClass('secondary')} disabled={create.isPending}>
            Create link
          </button>
        </div>
      </form>
      {error && <Notice tone="error">{error}</Notice>}
    </div>
  );
}
