import NextAuth from 'next-auth';
import { authOptions } from '@/lib/auth/options';

export const runtime = 'nodejs';

type Ctx = { params: Promise<{ nextauth: string[] }> };

// GET|POST /api/auth/* – next-auth (sign in, sign out, session, CSRF)
async function handler(req: Request, ctx: Ctx): Promise<Response> {
  // Options are built per request so the secret is read at run time, not at build time.
  return NextAuth(authOptions())(req, { params: await ctx.params }) as Promise<Response>;
}

export { handler as GET, handler as POST };
