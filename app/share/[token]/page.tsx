import type { Metadata } from 'next';
import { cookies } from 'next/headers';
import { notFound } from 'next/navigation';
import { Suspense } from 'react';
import { Dashboard } from '@/components/dashboard/dashboard';
import { Logo } from '@/components/logo';
import { SharePasswordForm } from '@/components/share-password-form';
import { ThemeToggle } from '@/components/theme-toggle';
import { liveSnapshot } from '@/lib/live/snapshot';
import { isUnlocked, shareCookieName, shareLinkByToken } from '@/lib/sites/share-links';

export const metadata: Metadata = { title: 'Shared dashboard' };

export const dynamic = 'force-dynamic';

// A share link's public, read-only dashboard. The token alone selects the site; there is no
// site id in the URL to tamper with.
export default async function SharePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const link = await shareLinkByToken(token).catch(() => null);
  if (!link) notFound();
  const unlocked = isUnlocked(link, (await cookies()).get(shareCookieName(link.id))?.value);
  return (
    <div className="min-h-screen">
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-6xl items-center justify-between gap-3 px-4 py-3">
          <div className="min-w-0">
            <h1 className="truncate text-lg font-semibold tracking-tight">{link.site.name}</h1>
            <p className="truncate text-xs text-slate-500">{link.site.domain} · shared read-only dashboard</p>
          </div>
          <ThemeToggle />
          <a href="/" className="shrink-0 text-sm text-slate-500">
            <span className="hidden sm:inline">Powered by </span>
            <Logo />
          </a>
        </div>
      </header>
      <main className="mx-auto max-w-6xl px-4 py-6">
        {unlocked ? (
          <Suspense>
            <Dashboard
              apiBase={`/api/share/${token}`}
              siteId={link.site.id}
              timezone={link.site.timezone}
              initialSnapshot={await liveSnapshot(link.site.id, Date.now())}
              shareToken={token}
            />
          </Suspense>
        ) : (
          <div className="mx-auto max-w-sm rounded-2xl bg-white p-6 shadow-sm ring-1 ring-slate-200">
            <h2 className="font-semibold">This dashboard is protected</h2>
            <p className="mt-1 text-sm text-slate-500">Enter the password you were given.</p>
            <SharePasswordForm token={token} />
          </div>
        )}
      </main>
    </div>
  );
}
