import { pool } from '@/lib/db/client';
import { exportDownload } from '@/lib/exports/background';
import { userRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// GET /api/exports/:token – a finished background export (signed, expiring link; the requester, still owner)
export const GET = userRoute<{ token: string }>(async ({ params, user }) => exportDownload(pool(), user, params.token));
