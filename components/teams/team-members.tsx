'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { atLeast, ROLES, roleLabel, type Role } from '@/lib/auth/roles';
import { api } from '../api';
import { Button, buttonClass } from '../ui/button';
import { Select } from '../ui/field';
import { EmptyState, ErrorState, Notice, QueryList, Skeleton } from '../ui/states';

interface Member {
  userId: string;
  email: string;
  name: string | null;
  role: Role;
}

interface Invite {
  id: string;
  role: Role;
  email: string | null;
  anyoneWithLink: boolean;
  expiresAt: string;
}

export function TeamMembers({ teamId, myRole, myId }: { teamId: string; myRole: Role; myId: string }) {
  const client = useQueryClient();
  const router = useRouter();
  const members = useQuery({
    queryKey: ['members', teamId],
    queryFn: () => api<{ members: Member[] }>(`/api/teams/${teamId}/members`),
  });
  const [error, setError] = useState<string | null>(null);
  const refresh = () => client.invalidateQueries({ queryKey: ['members', teamId] });
  const setRole = useMutation({
    mutationFn: ({ userId, role }: { userId: string; role: Role }) =>
      api(`/api/teams/${teamId}/members/${userId}`, { method: 'PATCH', json: { role } }),
    onSuccess: refresh,
    onError: (e) => setError((e as Error).message),
  });
  const remove = useMutation({
    mutationFn: (userId: string) => api(`/api/teams/${teamId}/members/${userId}`, { method: 'DELETE' }),
    onSuccess: (_r, userId) => {
      if (userId === myId) {
        router.push('/teams');
        router.refresh();
      } else void refresh();
    },
    onError: (e) => setError((e as Error).message),
  });
  const canManage = atLeast(myRole, 'admin');

  if (members.isPending) return <Skeleton className="h-24" />;
  if (members.isError) return <ErrorState message={members.error.message} onRetry={() => void members.refetch()} />;
  return (
    <div className="space-y-3">
      <ul className="divide-y divide-slate-100" data-testid="members">
        {members.data.members.map((m) => {
          const editable = canManage && m.userId !== myId && (myRole === 'owner' || m.role !== 'owner');
          return (
            <li key={m.userId} className="flex flex-wrap items-center gap-3 py-2">
              <div className="min-w-0 flex-1">
                <p className="truncate text-sm font-medium text-slate-800">
                  {m.name || m.email}{' '}
                  {m.userId === myId && <span className="text-xs font-normal text-slate-400">(you)</span>}
                </p>
                {m.name && <p className="truncate text-xs text-slate-500">{m.email}</p>}
              </div>
              {editable ? (
                <Select
                  aria-label={`Role of ${m.email}`}
                  value={m.role}
                  onChange={(e) => setRole.mutate({ userId: m.userId, role: e.target.value as Role })}
                  className="mt-0 w-auto py-1 text-xs"
                >
                  {ROLES.filter((r) => myRole === 'owner' || r !== 'owner').map((r) => (
                    <option key={r} value={r}>
                      {roleLabel[r]}
                    </option>
                  ))}
                </Select>
              ) : (
                <span className="rounded-full bg-slate-100 px-2 py-0.5 text-xs font-medium text-slate-600">
                  {roleLabel[m.role]}
                </span>
              )}
              {(editable || m.userId === myId) && (
                <Button
                  variant="ghost"
                  size="sm"
                  className="text-rose-600 hover:bg-rose-50"
                  onClick={() => remove.mutate(m.userId)}
                >
                  {m.userId === myId ? 'Leave' : 'Remove'}
                </Button>
              )}
            </li>
          );
        })}
      </ul>
      {error && <Notice tone="error">{error}</Notice>}
    </div>
  );
}

export function TeamInvites({ teamId, myRole }: { teamId: string; myRole: Role }) {
  const client = useQueryClient();
  const key = ['invites', teamId];
  const invites = useQuery({
    queryKey: key,
    queryFn: () => api<{ invites: Invite[] }>(`/api/teams/${teamId}/invites`),
  });
  const [created, setCreated] = useState<{ url: string; role: Role; email: string | null; emailed: boolean } | null>(
    null,
  );
  const [error, setError] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: (input: { role: Role; email?: string; anyoneWithLink: boolean }) =>
      api<{ invite: { url: string; role: Role; email: string | null; emailed: boolean } }>(
        `/api/teams/${teamId}/invites`,
        { method: 'POST', json: input },
      ),
    onSuccess: (r) => {
      setCreated(r.invite);
      void client.invalidateQueries({ queryKey: key });
    },
    onError: (e) => setError((e as Error).message),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => api(`/api/teams/${teamId}/invites/${id}`, { method: 'DELETE' }),
    onSuccess: () => client.invalidateQueries({ queryKey: key }),
  });
  function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setError(null);
    const form = new FormData(e.currentTarget);
    const email = String(form.get('email') ?? '').trim();
    create.mutate({
      role: String(form.get('role')) as Role,
      ...(email ? { email } : {}),
      anyoneWithLink: form.get('anyoneWithLink') === 'on',
    });
  }
  return (
    <div className="space-y-4">
      <form onSubmit={onSubmit} className="flex flex-wrap items-center gap-2">
        <label className="text-sm text-slate-600" htmlFor="invite-role">
          Invite as
        </label>
        <Select id="invite-role" name="role" defaultValue="viewer" className="mt-0 w-auto">
          {ROLES.filter((r) => myRole === 'owner' || r !== 'owner').map((r) => (
            <option key={r} value={r}>
              {roleLabel[r]}
            </option>
          ))}
        </Select>
        <input
          name="email"
          type="email"
          placeholder="their email"
          aria-label="Email of the person you invite"
          className="w-56 rounded-lg border border-slate-300 px-3 py-1.5 text-sm focus:border-indigo-500 focus:outline-none"
        />
        <label className="flex items-center gap-1.5 text-sm text-slate-600">
          <input type="checkbox" name="anyoneWithLink" className="rounded border-slate-300" />
          Anyone with the link
        </label>
        <button type="submit" className={buttonClass('primary')} disabled={create.isPending}>
          Create invite link
        </button>
      </form>
      {created && (
        <div className="space-y-2 rounded-lg bg-emerald-50 p-3 ring-1 ring-emerald-200">
          <p className="text-sm text-emerald-900">
            {created.emailed
              ? `Emailed to ${created.email}. You can also share the link yourself`
              : 'Send this link to the person you invite'}{' '}
            ({roleLabel[created.role].toLowerCase()}). It works once, for 7 days, and is shown only now.
          </p>
          <div className="flex gap-2">
            <input
              readOnly
              value={created.url}
              aria-label="Invite link"
              className="min-w-0 flex-1 rounded-md border border-emerald-300 bg-white px-2 py-1 font-mono text-xs"
              onFocus={(e) => e.currentTarget.select()}
            />
            <Button size="sm" variant="secondary" onClick={() => void navigator.clipboard?.writeText(created.url)}>
              Copy
            </Button>
          </div>
        </div>
      )}
      <p className="text-xs text-slate-500">
        Only the account with this email address can accept the invitation, unless you tick “Anyone with the link”. The
        link is also mailed when this installation has SMTP configured (SMTP_URL); otherwise share it yourself.
      </p>
      {error && <Notice tone="error">{error}</Notice>}
      <QueryList
        query={invites}
        items={(d) => d.invites}
        skeletonClassName="h-10"
        className="divide-y divide-slate-100 text-sm"
        empty={<EmptyState title="No pending invitations" />}
      >
        {(i) => (
          <li key={i.id} className="flex items-center justify-between gap-2 py-2">
            <span>
              {roleLabel[i.role]} invite{' '}
              <span className="text-xs text-slate-500">
                · {i.anyoneWithLink ? 'anyone with the link' : `for ${i.email}`} · expires{' '}
                {new Date(i.expiresAt).toLocaleDateString()}
              </span>
            </span>
            <Button
              variant="ghost"
              size="sm"
              className="text-rose-600 hover:bg-rose-50"
              onClick={() => revoke.mutate(i.id)}
            >
              Revoke
            </Button>
          </li>
        )}
      </QueryList>
    </div>
  );
}
