import { cookies } from 'next/headers';
import { ConcurrencyGate } from '../analytics/fair-reads';
import { clientKey, RateLimiter } from '../collect/rate-limit';
import { env } from '../env';
import { requestIp } from './client-ip';
import { authenticateApiKey, type ApiPrincipal, type ApiScope } from '../api-keys/keys';
import { siteForMember, teamForMember, type MemberSite, type MemberTeam } from '../auth/access';
import { requireUser, type CurrentUser } from '../auth/current-user';
import type { Role } from '../auth/roles';
import { EddyError } from '../errors';
import { isUnlocked, shareCookieName, shareLinkByToken, type ResolvedShareLink } from '../sites/share-links';
import { sameOrigin } from './origin';
import { errorResponse } from './respond';

// The one policy wrapper for route handlers. Each variant does, in order: Origin check on
// anything but GET/HEAD (cookie-authenticated requests must come from Eddy's own pages),
// authentication, the membership lookup through the data-access layer (404 for not-yours),
// the role check (403), and error mapping. A handler receives only what passed, so it cannot
// forget a check. Authorisation lives here and in the DAL — never in middleware — so a forged
// `x-middleware-subrequest` header has nothing to skip.

type RouteContext<P> = { params: Promise<P> };
export type RouteHandler<P> = (req: Request, ctx: RouteContext<P>) => Promise<Response>;
type Result = Response | object | null | undefined | void;

const NO_STORE = { 'Cache-Control': 'private, no-store' };

function wrap<P>(run: (req: Request, params: P) => Promise<Result>): RouteHandler<P> {
  return async (req, ctx) => {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD' && !sameOrigin(req))
        throw new EddyError('forbidden', 'Cross-origin request refused');
      const out = await run(req, await ctx.params);
      if (out instanceof Response) {
        if (!out.headers.has('Cache-Control')) out.headers.set('Cache-Control', NO_STORE['Cache-Control']);
        return out;
      }
      return Response.json(out ?? { ok: true }, { headers: NO_STORE });
    } catch (e) {
      return errorResponse(e, NO_STORE);
    }
  };
}

/** Anyone; still Origin-checked and error-mapped (sign-up, invite preview). */
export function publicRoute<P>(handler: (c: { req: Request; params: P }) => Promise<Result>): RouteHandler<P> {
  return wrap((req, params) => handler({ req, params }));
}

/** A signed-in user (session version current). */
export function userRoute<P>(
  handler: (c: { req: Request; params: P; user: CurrentUser }) => Promise<Result>,
): RouteHandler<P> {
  return wrap(async (req, params) => handler({ req, params, user: await requireUser() }));
}

/** A member of the site's team with at least `minRole`. */
export function siteRoute<P extends { siteId: string }>(
  minRole: Role,
  handler: (c: { req: Request; params: P; user: CurrentUser; site: MemberSite }) => Promise<Result>,
): RouteHandler<P> {
  return wrap(async (req, params) => {
    const user = await requireUser();
    const site = await siteForMember(user.id, params.siteId, minRole);
    return handler({ req, params, user, site });
  });
}

/** A member of the team with at least `minRole`. */
export function teamRoute<P extends { teamId: string }>(
  minRole: Role,
  handler: (c: { req: Request; params: P; user: CurrentUser; team: MemberTeam }) => Promise<Result>,
): RouteHandler<P> {
  return wrap(async (req, params) => {
    const user = await requireUser();
    const team = await teamForMember(user.id, params.teamId, minRole);
    return handler({ req, params, user, team });
  });
}

/** A public share link (read-only), unlocked by its password cookie when it has one. */
export function shareRoute<P extends { token: string }>(
  handler: (c: { req: Request; params: P; link: ResolvedShareLink }) => Promise<Result>,
  opts: { allowLocked?: boolean } = {},
): RouteHandler<P> {
  return wrap(async (req, params) => {
    const link = await shareLinkByToken(params.token);
    // A share link is public: anyone holding it may load the dashboard, nobody may hammer it
    // (per address: a request rate; per link: requests in flight — fair-reads.ts).
    const e = env();
    if (!shareRate.allow(`${link.id}|${clientKey(requestIp(req.headers))}`, e.SHARE_LINK_RATE_PER_MINUTE, Date.now())) {
      throw new EddyError('rate_limited', 'Too many requests for this shared dashboard; try again in a minute', {
        retryAfter: 60,
      });
    }
    shareGate ??= new ConcurrencyGate(e.SHARE_LINK_CONCURRENCY, 16, 'requests for this shared dashboard');
    return shareGate.run(link.id, async () => {
      if (!opts.allowLocked && !isUnlocked(link, (await cookies()).get(shareCookieName(link.id))?.value)) {
        throw new EddyError('unauthorized', 'This dashboard is protected by a password');
      }
      return handler({ req, params, link });
    });
  });
}

/**
 * The public API (/api/v1): an API key with `scope` in `Authorization: Bearer …` instead of a
 * session. No Origin check — no cookie is read, so there is no ambient credential to forge a
 * request with. The key is checked (401 unknown/revoked, 403 scope), rate-limited per key
 * (429 + Retry-After), and a `site_id` in the query must be the key's site (404 otherwise, as for
 * any site that is not yours). The key itself never reaches a log: errors carry no header values.
 */
export function apiKeyRoute<P>(
  scope: ApiScope,
  handler: (c: { req: Request; params: P; principal: ApiPrincipal }) => Promise<Result>,
): RouteHandler<P> {
  return async (req, ctx) => {
    try {
      const now = Date.now();
      const principal = await authenticateApiKey(req.headers.get('authorization'), scope, now);
      if (!apiKeyRate.allow(principal.keyId, env().API_KEY_RATE_PER_MINUTE, now)) {
        throw new EddyError('rate_limited', 'Too many requests for this API key; try again shortly', {
          retryAfter: 10,
        });
      }
      requireKeySite(principal, new URL(req.url).searchParams.get('site_id'));
      const out = await handler({ req, params: await ctx.params, principal });
      if (out instanceof Response) {
        if (!out.headers.has('Cache-Control')) out.headers.set('Cache-Control', NO_STORE['Cache-Control']);
        return out;
      }
      return Response.json(out ?? { ok: true }, { headers: NO_STORE });
    } catch (e) {
      const headers: Record<string, string> = { ...NO_STORE };
      if (e instanceof EddyError && e.code === 'unauthorized') headers['WWW-Authenticate'] = 'Bearer';
      return errorResponse(e, headers);
    }
  };
}

/** A site named by an API request must be the key's own: anything else is "not found", never "forbidden". */
export function requireKeySite(principal: ApiPrincipal, siteId: string | null | undefined): void {
  if (siteId !== null && siteId !== undefined && siteId !== principal.site.id)
    throw new EddyError('not_found', 'Site not found');
}

const apiKeyRate = new RateLimiter();
const shareRate = new RateLimiter();
let shareGate: ConcurrencyGate | undefined;
