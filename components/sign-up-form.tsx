'use client';
import { signIn } from 'next-auth/react';
import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { api, fieldError } from './api';
import { buttonClass } from './ui/button';
import { Field, Input } from './ui/field';
import { Notice } from './ui/states';

export function SignUpForm({ callbackUrl }: { callbackUrl: string }) {
  const router = useRouter();
  const [error, setError] = useState<{ field: string | null; message: string } | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const form = new FormData(e.currentTarget);
    const input = {
      name: String(form.get('name') ?? ''),
      email: String(form.get('email')),
      password: String(form.get('password')),
    };
    try {
      await api('/api/signup', { method: 'POST', json: input });
      const res = await signIn('credentials', { email: input.email, password: input.password, redirect: false });
      if (!res?.ok || res.error)
        throw new Error('Your account was created, but signing in failed. Sign in on the next page.');
      router.push(callbackUrl);
      router.refresh();
    } catch (err) {
      setBusy(false);
      setError(fieldError(err));
    }
  }

  const at = (f: string) => (error?.field === f ? error.message : null);
  return (
    <form onSubmit={onSubmit} className="mt-6 space-y-4">
      <Field label="Name" hint="Optional">
        <Input name="name" autoComplete="name" maxLength={100} />
      </Field>
      <Field label="Email" error={at('email')}>
        <Input name="email" type="email" required autoComplete="email" />
      </Field>
      <Field label="Password" hint="At least 8 characters" error={at('password')}>
        <Input name="password" type="password" required minLength={8} autoComplete="new-password" />
      </Field>
      {error && !error.field && <Notice tone="error">{error.message}</Notice>}
      <button type="submit" disabled={busy} className={`${buttonClass('primary')} w-full`}>
        {busy ? 'Creating your account…' : 'Create account'}
      </button>
    </form>
  );
}
