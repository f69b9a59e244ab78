import type { Metadata } from 'next';
import { AlertsManager } from '@/components/alerts/alerts-manager';
import { pageSite } from '@/lib/auth/page-access';
import { atLeast } from '@/lib/auth/roles';

export const metadata: Metadata = { title: 'Alerts' };

export default async function SiteAlertsPage({ params }: { params: Promise<{ siteId: string }> }) {
  const { siteId } = await params;
  const { site } = await pageSite(siteId);
  return <AlertsManager siteId={site.id} canEdit={atLeast(site.role, 'admin')} />;
}
