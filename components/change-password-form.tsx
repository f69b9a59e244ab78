'use client';
import { signIn } from 'next-auth/react';
import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { api, fieldError } from './api';
import { buttonClass } from './ui/button';
import { Field, Input } from './ui/field';
import { Notice } from './ui/states';

export function ChangePasswordForm({ email, hasPassword }: { email: string; hasPassword: boolean }) {
  const router = useRouter();
  const [error, setError] = useState<{ field: string | null; message: string } | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    const data = new FormData(form);
    const newPassword = String(data.get('newPassword'));
    if (newPassword !== String(data.get('confirm')))
      return setError({ field: 'confirm', message: 'does not match the new password' });
    setBusy(true);
    setError(null);
    try {
      await api('/api/account/password', {
        method: 'POST',
        json: { currentPassword: hasPassword ? String(data.get('currentPassword')) : undefined, newPassword },
      });
      // Every session ended, this one included: sign this browser back in with the new password.
      const res = await signIn('credentials', { email, password: newPassword, redirect: false });
      if (!res?.ok || res.error) router.push('/login');
      form.reset();
      setDone(true);
    } catch (err) {
      setError(fieldError(err));
    } finally {
      setBusy(false);
    }
  }
  const at = (f: string) => (error?.field === f ? error.message : null);
  return (
    <form onSubmit={onSubmit} className="max-w-sm space-y-4">
      {hasPassword && (
        <Field label="Current password" error={at('currentPassword')}>
          <Input name="currentPassword" type="password" required autoComplete="current-password" />
        </Field>
      )}
      <Field label="New password" hint="At least 8 characters" error={at('newPassword')}>
        <Input name="newPassword" type="password" required minLength={8} autoComplete="new-password" />
      </Field>
      <Field label="Repeat new password" error={at('confirm')}>
        <Input name="confirm" type="password" required minLength={8} autoComplete="new-password" />
      </Field>
      {error && !error.field && <Notice tone="error">{error.message}</Notice>}
      {done && <Notice tone="success">Password changed. You were signed out everywhere else.</Notice>}
      <button type="submit" disabled={busy} className={buttonClass('primary')}>
        {busy ? 'Changing…' : 'Change password'}
      </button>
    </form>
  );
}
