'use client';
import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { api } from './api';
import { buttonClass } from './ui/button';
import { Field, Input } from './ui/field';
import { Notice } from './ui/states';

export function SharePasswordForm({ token }: { token: string }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api(`/api/share/${token}/unlock`, {
        method: 'POST',
        json: { password: String(new FormData(e.currentTarget).get('password')) },
      });
      router.refresh();
    } catch (err) {
      setBusy(false);
      setError((err as Error).message);
    }
  }
  return (
    <form onSubmit={onSubmit} className="mt-4 space-y-3">
      <Field label="Password">
        <Input name="password" type="password" required autoComplete="current-password" />
      </Field>
      {error && <Notice tone="error">{error}</Notice>}
      <button type="submit" className={`${buttonClass('primary')} w-full`} disabled={busy}>
        {busy ? 'Checking…' : 'View dashboard'}
      </button>
    </form>
  );
}
