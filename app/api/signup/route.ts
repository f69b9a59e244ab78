import { signUp, signUpSchema } from '@/lib/accounts/sign-up';
import { requestIp } from '@/lib/http/client-ip';
import { readJson } from '@/lib/http/parse';
import { publicRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// POST /api/signup – create an account with a personal team (the page then signs in)
export const POST = publicRoute(async ({ req }) => {
  const input = await readJson(req, signUpSchema);
  await signUp(input, requestIp(req.headers));
  return Response.json({ ok: true }, { status: 201 });
});
