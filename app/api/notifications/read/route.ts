import { readJson } from '@/lib/http/parse';
import { userRoute } from '@/lib/http/policy';
import { markRead, markReadSchema } from '@/lib/notify/list';

export const runtime = 'nodejs';

// POST /api/notifications/read – mark some (ids) or all of the user's notifications read
export const POST = userRoute(async ({ req, user }) => {
  await markRead(user.id, await readJson(req, markReadSchema));
});
