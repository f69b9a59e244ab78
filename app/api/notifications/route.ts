import { userRoute } from '@/lib/http/policy';
import { listNotifications } from '@/lib/notify/list';

export const runtime = 'nodejs';

// GET /api/notifications – the signed-in user's notifications, newest first, with the unread count
export const GET = userRoute(async ({ user }) => listNotifications(user.id));
