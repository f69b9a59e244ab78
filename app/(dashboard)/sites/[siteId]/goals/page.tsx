import type { Metadata } from 'next';
import { GoalsManager } from '@/components/goals/goals-manager';
import { pageSite } from '@/lib/auth/page-access';
import { atLeast } from '@/lib/auth/roles';

export const metadata: Metadata = { title: 'Goals and funnels' };

export default async function SiteGoalsPage({ params }: { params: Promise<{ siteId: string }> }) {
  const { siteId } = await params;
  const { site } = await pageSite(siteId);
  return (
    <GoalsManager siteId={site.id} canEdit={atLeast(site.role, 'admin')} sessionGapMinutes={site.sessionGapMinutes} />
  );
}
