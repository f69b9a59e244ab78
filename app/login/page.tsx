import type { Metadata } from 'next';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { AuthCard } from '@/components/auth-card';
import { LoginForm } from '@/components/login-form';
import { currentUser } from '@/lib/auth/current-user';
import { enabledOAuthProviders } from '@/lib/auth/options';
import { safeCallbackPath } from '@/lib/http/safe-redirect';

export const metadata: Metadata = { title: 'Sign in' };

export const dynamic = 'force-dynamic';

const names = { github: 'GitHub', google: 'Google' } as const;

export default async function LoginPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const sp = await searchParams;
  const callbackUrl = safeCallbackPath(sp.callbackUrl);
  if (await currentUser()) redirect(callbackUrl);
  const error = typeof sp.error === 'string' ? sp.error : undefined;
  return (
    <AuthCard
      title="Sign in"
      subtitle="Real-time, cookieless web analytics."
      footer={
        <>
          New to Eddy?{' '}
          <Link
            href={`/signup${callbackUrl !== '/sites' ? `?callbackUrl=${encodeURIComponent(callbackUrl)}` : ''}`}
            className="font-medium text-indigo-600 hover:underline"
          >
            Create an account
          </Link>
        </>
      }
    >
      <LoginForm
        callbackUrl={callbackUrl}
        providers={enabledOAuthProviders().map((id) => ({ id, name: names[id] }))}
        initialError={error}
      />
    </AuthCard>
  );
}
