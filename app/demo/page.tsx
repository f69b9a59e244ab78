import type { Metadata } from 'next';
import Link from 'next/link';
import Script from 'next/script';
import { db } from '@/lib/db/client';
import { DEMO_EMAIL } from '@/lib/accounts/create-demo-account';

export const metadata: Metadata = { title: 'Demo page' };

export const dynamic = 'force-dynamic';

// A page of the demo site with the snippet on it: open it and watch the dashboard count it.
export default async function DemoPage() {
  const site = await db().site.findFirst({
    where: { team: { memberships: { some: { user: { email: DEMO_EMAIL } } } } },
    orderBy: { createdAt: 'asc' },
  });
  return (
    <main className="mx-auto max-w-2xl p-8">
      <h1 className="text-2xl font-semibold">Eddy demo site</h1>
      <p className="mt-2 text-slate-600">
        Every load of this page is a pageview for “Demo site”. Reload it and watch the dashboard.
      </p>
      {site ? (
        <>
          {/* The demo runs on localhost, which the tracker ignores unless told otherwise. */}
          <Script src="/t.js" data-site={site.publicKey} data-allow-localhost="" strategy="afterInteractive" />
          <Link className="mt-4 inline-block text-indigo-600 underline" href={`/sites/${site.id}`}>
            Open the dashboard
          </Link>
        </>
      ) : (
        <p className="mt-4 text-rose-600">No demo site in this installation (EDDY_DEMO=false).</p>
      )}
    </main>
  );
}
