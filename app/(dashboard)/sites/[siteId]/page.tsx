import { notFound, redirect } from 'next/navigation';
import { LiveCounter } from '@/components/live-counter';
import { SnippetBox } from '@/components/snippet-box';
import { siteForMember } from '@/lib/auth/access';
import { currentUser } from '@/lib/auth/current-user';
import { isEddyError } from '@/lib/errors';
import { recentMinuteCounts } from '@/lib/live/recent-minutes';
import { publicUrl } from '@/lib/env';

export default async function SitePage({ params }: { params: Promise<{ siteId: string }> }) {
  const { siteId } = await params;
  const user = await currentUser();
  if (!user) redirect('/login');
  const site = await siteForMember(user.id, siteId).catch((e: unknown) => {
    if (isEddyError(e) && e.code === 'not_found') notFound();
    throw e;
  });
  const initial = await recentMinuteCounts(site.id, Date.now());
  return (
    <section className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight">{site.name}</h1>
        <p className="text-sm text-slate-500">{site.domain}</p>
      </div>
      <LiveCounter siteId={site.id} initial={initial} />
      <SnippetBox snippet={`<script defer src="${publicUrl()}/t.js" data-site="${site.publicKey}"></script>`} />
    </section>
  );
}
