import type { Metadata } from 'next';
import { ApiKeys } from '@/components/sites/api-keys';
import { DeleteSite } from '@/components/sites/delete-site';
import { ExportData } from '@/components/sites/export-data';
import { ImportData } from '@/components/sites/import-data';
import { localDate } from '@/lib/analytics/time-zone';
import { ShareLinks } from '@/components/sites/share-links';
import { SiteForm } from '@/components/sites/site-form';
import { Card } from '@/components/ui/card';
import { pageSite } from '@/lib/auth/page-access';
import { publicUrl } from '@/lib/env';
import type { SaltRotation } from '@/lib/sites/settings';
import { contentGroupsOf } from '@/lib/sites/update-site';

export const metadata: Metadata = { title: 'Site settings' };

export default async function SiteSettingsPage({ params }: { params: Promise<{ siteId: string }> }) {
  const { siteId } = await params;
  const { site } = await pageSite(siteId, 'admin');
  const groups = await contentGroupsOf(site.id);
  return (
    <div className="grid gap-5 lg:grid-cols-5">
      <Card title="Settings" className="lg:col-span-3">
        <SiteForm
          mode="edit"
          siteId={site.id}
          initial={{
            name: site.name,
            domain: site.domain,
            allowedHostnames: site.allowedHostnames,
            timezone: site.timezone,
            sessionGapMinutes: site.sessionGapMinutes,
            saltRotation: site.saltRotation as SaltRotation,
            respectDnt: site.respectDnt,
            retentionDays: site.retentionDays,
            contentGroups: groups.map((g) => ({ name: g.name, pattern: g.pattern })),
          }}
        />
      </Card>
      <div className="space-y-5 lg:col-span-2">
        <Card title="Share links">
          <ShareLinks siteId={site.id} baseUrl={publicUrl()} />
        </Card>
        <Card title="API keys">
          <ApiKeys siteId={site.id} />
        </Card>
        <Card title="Import history">
          <ImportData siteId={site.id} />
        </Card>
        {site.role === 'owner' && (
          <Card title="Export data">
            <ExportData siteId={site.id} today={localDate(Date.now(), site.timezone)} />
          </Card>
        )}
        <Card title="Danger zone">
          <DeleteSite siteId={site.id} domain={site.domain} />
        </Card>
      </div>
    </div>
  );
}
