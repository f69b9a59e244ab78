import { changePassword, changePasswordSchema } from '@/lib/accounts/change-password';
import { requestIp } from '@/lib/http/client-ip';
import { readJson } from '@/lib/http/parse';
import { userRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// POST /api/account/password – change the password; ends every session of this user
export const POST = userRoute(async ({ req, user }) => {
  await changePassword(user, await readJson(req, changePasswordSchema), requestIp(req.headers));
  return { ok: true, signedOut: true };
});
