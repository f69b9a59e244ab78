'use client';
import { signIn } from 'next-auth/react';
import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { buttonClass } from './ui/button';
import { Field, Input } from './ui/field';
import { Notice } from './ui/states';

// One message for every failure — unknown email, wrong password, too many attempts — so the
// form tells an attacker nothing about which accounts exist or are being throttled.
export const SIGN_IN_FAILED =
  'Email or password is incorrect, or there were too many attempts. Check them and try again in a few minutes.';

const oauthErrors: Record<string, string> = {
  OAuthAccountNotLinked: 'An account with this email already exists. Sign in with your email and password.',
  OAuthNoEmail: 'The provider did not share a verified email address.',
};

export function LoginForm({
  callbackUrl,
  providers,
  initialError,
}: {
  callbackUrl: string;
  providers: { id: string; name: string }[];
  initialError?: string;
}) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(
    initialError ? (oauthErrors[initialError] ?? 'Sign-in failed. Try again.') : null,
  );
  const [busy, setBusy] = useState(false);

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const form = new FormData(e.currentTarget);
    const res = await signIn('credentials', {
      email: String(form.get('email')),
      password: String(form.get('password')),
      redirect: false,
    });
    if (res?.ok && !res.error) {
      router.push(callbackUrl);
      router.refresh();
    } else {
      setBusy(false);
      setError(SIGN_IN_FAILED);
    }
  }

  return (
    <div className="mt-6 space-y-4">
      <form onSubmit={onSubmit} className="space-y-4">
        <Field label="Email">
          <Input name="email" type="email" required autoComplete="email" />
        </Field>
        <Field label="Password">
          <Input name="password" type="password" required autoComplete="current-password" />
        </Field>
        {error && <Notice tone="error">{error}</Notice>}
        <button type="submit" disabled={busy} className={`${buttonClass('primary')} w-full`}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      {providers.length > 0 && (
        <div className="space-y-2">
          <div className="flex items-center gap-3 text-xs text-slate-400">
            <span className="h-px flex-1 bg-slate-200" /> or <span className="h-px flex-1 bg-slate-200" />
          </div>
          {providers.map((p) => (
            <button
              key={p.id}
              type="button"
              onClick={() => void signIn(p.id, { callbackUrl })}
              className={`${buttonClass('secondary')} w-full`}
            >
              Continue with {p.name}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
