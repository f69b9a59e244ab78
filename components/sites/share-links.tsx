'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, fieldError } from '../api';
import { Button, buttonClass } from '../ui/button';
import { Field, Input } from '../ui/field';
import { EmptyState, Notice, QueryList } from '../ui/states';
import { RevocableRow, Tag, useRevoke } from './revocable-row';

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
  const links = useQuery({
    queryKey: key,
    queryFn: () => api<{ links: ShareLink[] }>(`/api/sites/${siteId}/share-links`),
  });
  const [error, setError] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: (body: { label: string; password?: string }) =>
      api<{ link: ShareLink }>(`/api/sites/${siteId}/share-links`, { method: 'POST', json: body }),
    onSuccess: () => client.invalidateQueries({ queryKey: key }),
    onError: (e) => setError(fieldError(e).message),
  });
  const revoke = useRevoke(`/api/sites/${siteId}/share-links`, key);

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
      <p className="text-sm text-slate-500">
        Anyone with a link sees a read-only dashboard of this site, live header included. Revoking a link stops it at
        once.
      </p>
      <QueryList
        query={links}
        items={(d) => d.links}
        testId="share-links"
        empty={
          <EmptyState title="No share links">
            Create one below to show your stats to someone without an account.
          </EmptyState>
        }
      >
        {(l) => {
          const url = `${baseUrl}/share/${l.token}`;
          const copy = (
            <Button variant="secondary" size="sm" onClick={() => void navigator.clipboard?.writeText(url)}>
              Copy
            </Button>
          );
          const link = (
            <a
              href={url}
              target="_blank"
              rel="noreferrer"
              className="block truncate font-mono text-xs text-indigo-600 hover:underline"
            >
              {url}
            </a>
          );
          return (
            <RevocableRow
              key={l.id}
              id={l.id}
              label={l.label || 'Untitled link'}
              tag={l.hasPassword && <Tag tone="amber">password</Tag>}
              detail={link}
              actions={copy}
              revoke={revoke}
            />
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
