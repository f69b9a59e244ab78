import type { Metadata } from 'next';
import { SlaView } from '@/components/sla/sla-view';
import { pageSite } from '@/lib/auth/page-access';
import { atLeast } from '@/lib/auth/roles';

export const metadata: Metadata = { title: 'Freshness SLA' };

export default async function SiteSlaPage({ params }: { params: Promise<{ siteId: string }> }) {
  const { siteId } = await params;
  const { site } = await pageSite(siteId);
  return <SlaView siteId={site.id} canEdit={atLeast(site.role, 'admin')} />;
}
