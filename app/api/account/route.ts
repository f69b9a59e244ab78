import { deleteAccount, deleteAccountSchema } from '@/lib/accounts/delete-account';
import { requestIp } from '@/lib/http/client-ip';
import { readJson } from '@/lib/http/parse';
import { userRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// DELETE /api/account – delete the signed-in account (password or a recent sign-in; body confirms the email)
export const DELETE = userRoute(async ({ req, user }) => ({
  ok: true,
  signedOut: true,
  ...(await deleteAccount(user, await readJson(req, deleteAccountSchema), requestIp(req.headers))),
}));
