'use client';
import { useState, type FormEvent } from 'react';
import { api, fieldError } from './api';
import { buttonClass } from './ui/button';
import { Field, Input } from './ui/field';
import { Notice } from './ui/states';

export interface DeleteAccountFormProps {
  email: string;
  hasPassword: boolean;
  /** Teams the user is alone in: deleted with the account. */
  deletes: { id: string; name: string; sites: number }[];
  /** Teams where the user is the last owner and others remain: they stop the deletion. */
  blockers: { id: string; name: string }[];
}

export function DeleteAccountForm({ email, hasPassword, deletes, blockers }: DeleteAccountFormProps) {
  const [error, setError] = useState<{ field: string | null; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirm, setConfirm] = useState('');

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await api('/api/account', {
        method: 'DELETE',
        json: { password: hasPassword ? String(data.get('password')) : undefined, confirm },
      });
      // The account and every session are gone: a full navigation drops the client's state.
      window.location.assign('/login?deleted=1');
    } catch (err) {
      setError(fieldError(err));
      setBusy(false);
    }
  }
  const at = (f: string) => (error?.field === f ? error.message : null);
  if (blockers.length) {
    return (
      <div className="space-y-2 text-sm" data-testid="delete-account-blocked">
        <p>
          You are the last owner of these teams, which have other members. Make another member owner, or delete the
          team, before deleting your account:
        </p>
        <ul className="list-disc pl-5">
          {blockers.map((t) => (
            <li key={t.id}>
              <a className="underline" href={`/teams/${t.id}`}>
                {t.name}
              </a>
            </li>
          ))}
        </ul>
      </div>
    );
  }
  return (
    <form onSubmit={onSubmit} className="max-w-sm space-y-4">
      <p className="text-sm text-slate-600">
        Deletes your account and signs you out everywhere.
        {deletes.length > 0 && (
          <>
            {' '}
            Also deleted, with all their sites and analytics data:{' '}
            {deletes.map((t, i) => (
              <span key={t.id}>
                {i > 0 && ', '}
                <strong>{t.name}</strong> ({t.sites} site{t.sites === 1 ? '' : 's'})
              </span>
            ))}
            .
          </>
        )}{' '}
        This cannot be undone.
      </p>
      {hasPassword ? (
        <Field label="Password" error={at('password')}>
          <Input name="password" type="password" required autoComplete="current-password" />
        </Field>
      ) : (
        <p className="text-sm text-slate-500">
          Your account has no password: sign in again if you signed in more than 10 minutes ago.
        </p>
      )}
      <Field label={`Type ${email} to confirm`} error={at('confirm')}>
        <Input name="confirm" value={confirm} onChange={(e) => setConfirm(e.target.value)} autoComplete="off" />
      </Field>
      {error && !error.field && <Notice tone="error">{error.message}</Notice>}
      <button
        type="submit"
        disabled={busy || confirm.trim().toLowerCase() !== email.toLowerCase()}
        className={buttonClass('danger')}
      >
        {busy ? 'Deleting…' : 'Delete my account'}
      </button>
    </form>
  );
}
