import type { Metadata } from 'next';
import { Suspense } from 'react';
import { Dashboard } from '@/components/dashboard/dashboard';
import { pageSite } from '@/lib/auth/page-access';
import { liveSnapshot } from '@/lib/live/snapshot';

export const metadata: Metadata = { title: 'Dashboard' };

export default async function SiteDashboardPage({ params }: { params: Promise<{ siteId: string }> }) {
  const { siteId } = await params;
  const { site } = await pageSite(siteId);
  const initial = await liveSnapshot(site.id, Date.now());
  return (
    <Suspense>
      <Dashboard apiBase={`/api/sites/${site.id}`} siteId={site.id} timezone={site.timezone} initialSnapshot={initial} snippetHref={`/sites/${site.id}/snippet`} />
    </Suspense>
  );
}
