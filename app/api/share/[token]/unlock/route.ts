import { z } from 'zod';
import { attemptSucceeded, beginAttempt } from '@/lib/auth/attempts';
import { EddyError } from '@/lib/errors';
import { requestIp } from '@/lib/http/client-ip';
import { readJson } from '@/lib/http/parse';
import { shareRoute } from '@/lib/http/policy';
import { shareCookieName, unlockShareLink } from '@/lib/sites/share-links';

export const runtime = 'nodejs';

// POST /api/share/:token/unlock – check a share link's password; sets the unlock cookie
export const POST = shareRoute<{ token: string }>(
  async ({ req, link }) => {
    const { password } = await readJson(req, z.object({ password: z.string().max(200) }));
    const attempt = await beginAttempt('share', requestIp(req.headers), link.id);
    const value = attempt.allowed ? await unlockShareLink(link, password) : null;
    if (!value) throw new EddyError('unauthorized', 'Wrong password, or too many attempts; try again later');
    await attemptSucceeded('share', attempt, link.id);
    const res = Response.json({ ok: true });
    const secure = new URL(req.url).protocol === 'https:' ? '; Secure' : '';
    res.headers.append(
      'Set-Cookie',
      `${shareCookieName(link.id)}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${7 * 24 * 3600}${secure}`,
    );
    return res;
  },
  { allowLocked: true },
);
