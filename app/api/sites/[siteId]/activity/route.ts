import { siteRoute } from '@/lib/http/policy';
import { recentActivity } from '@/lib/sites/recent-activity';

export const runtime = 'nodejs';

// GET /api/sites/:siteId/activity – the last events stored and what was dropped (by reason, with a fix) in the last 24 h
export const GET = siteRoute<{ siteId: string }>('viewer', async ({ site }) => recentActivity(site.id));
