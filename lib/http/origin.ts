import { publicUrl } from '../env';

// Cookie-authenticated requests that change something must come from Eddy's own pages: a
// browser always sends Origin on such requests, and another site cannot forge it.

export function allowedOrigins(req: Request): Set<string> {
  const allowed = new Set<string>([new URL(publicUrl()).origin]);
  const host = req.headers.get('host');
  if (host) {
    allowed.add(`http://${host}`);
    allowed.add(`https://${host}`);
  }
  return allowed;
}

export function sameOrigin(req: Request): boolean {
  const origin = req.headers.get('origin');
  return origin !== null && allowedOrigins(req).has(origin);
}
