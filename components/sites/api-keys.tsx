'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, fieldError } from '../api';
import { buttonClass } from '../ui/button';
import { Field, Input } from '../ui/field';
import { EmptyState, Notice, QueryList } from '../ui/states';
import { RevocableRow, Tag, useRevoke } from './revocable-row';

interface ApiKey {
  id: string;
  label: string;
  scopes: string[];
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : 'never');

// Admins only (the settings page and the API routes both require it): viewers never see keys.
export function ApiKeys({ siteId }: { siteId: string }) {
  const client = useQueryClient();
  const queryKey = ['api-keys', siteId];
  const keys = useQuery({ queryKey, queryFn: () => api<{ apiKeys: ApiKey[] }>(`/api/sites/${siteId}/api-keys`) });
  const [error, setError] = useState<string | null>(null);
  // The new key's value, shown once: it is in this component's state only until the page is left.
  const [created, setCreated] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: (body: { label: string; scopes: string[] }) =>
      api<{ key: string; apiKey: ApiKey }>(`/api/sites/${siteId}/api-keys`, { method: 'POST', json: body }),
    onSuccess: (r) => {
      setCreated(r.key);
      void client.invalidateQueries({ queryKey });
    },
    onError: (e) => setError(fieldError(e).message),
  });
  const revoke = useRevoke(`/api/sites/${siteId}/api-keys`, queryKey);

  function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setError(null);
    setCreated(null);
    const form = new FormData(e.currentTarget);
    const scopes = ['events:write', 'stats:read'].filter((s) => form.get(s) === 'on');
    if (scopes.length === 0) return setError('Choose at least one scope');
    create.mutate({ label: String(form.get('label') ?? ''), scopes });
    e.currentTarget.reset();
  }

  return (
    <div className="space-y-4">
      <p className="text-sm text-slate-500">
        Keys let your server send events (<code>events:write</code>, e.g. with the <code>@eddy/node</code> middleware)
        and scripts read this site&apos;s numbers (<code>stats:read</code>). See{' '}
        <a className="text-indigo-600 hover:underline" href="/docs/api">
          the API docs
        </a>
        .
      </p>
      {created && (
        <Notice tone="success">
          <span className="block">Copy this key now — it is not shown again:</span>
          <code className="mt-1 block break-all font-mono text-xs" data-testid="new-api-key">
            {created}
          </code>
        </Notice>
      )}
      <QueryList
        query={keys}
        items={(d) => d.apiKeys}
        testId="api-keys"
        empty={
          <EmptyState title="No API keys">Create one below to send events from your server or read stats.</EmptyState>
        }
      >
        {(k) => (
          <RevocableRow
            key={k.id}
            id={k.id}
            label={
              <>
                {k.label || 'Untitled key'} <span className="font-mono text-xs text-slate-500">{k.prefix}…</span>
              </>
            }
            tag={k.revokedAt && <Tag tone="rose">revoked</Tag>}
            revoked={Boolean(k.revokedAt)}
            detail={
              <p className="text-xs text-slate-500">{`${k.scopes.join(', ')} · created ${when(k.createdAt)} · last used ${when(k.lastUsedAt)}`}</p>
            }
            revoke={revoke}
          />
        )}
      </QueryList>
      <form onSubmit={onSubmit} className="grid gap-3">
        <Field label="Label">
          <Input name="label" maxLength={80} placeholder="Production API server" />
        </Field>
        <div className="flex gap-4 text-sm text-slate-700">
          <label className="flex items-center gap-1.5">
            <input type="checkbox" name="events:write" defaultChecked /> events:write
          </label>
          <label className="flex items-center gap-1.5">
            <input type="checkbox" name="stats:read" /> stats:read
          </label>
        </div>
        <div>
          <button type="submit" className={buttonClass('secondary')} disabled={create.isPending}>
            Create key
          </button>
        </div>
      </form>
      {error && <Notice tone="error">{error}</Notice>}
    </div>
  );
}
