import { io, type Socket } from 'socket.io-client';

// A browser-like HTTP client for integration tests: a cookie jar, the Origin header a page of
// Eddy would send, and sign-in through next-auth's real credentials endpoint.

export class HttpSession {
  readonly cookies = new Map<string, string>();
  constructor(
    readonly base: string,
    readonly ip = '203.0.113.10',
  ) {}

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private remember(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async fetch(path: string, init: RequestInit & { json?: unknown; origin?: string | null } = {}): Promise<Response> {
    const { json, origin, ...rest } = init;
    const method = (rest.method ?? 'GET').toUpperCase();
    const headers: Record<string, string> = {
      'x-forwarded-for': this.ip,
      ...(rest.headers as Record<string, string> | undefined),
    };
    if (this.cookies.size) headers.cookie = this.cookieHeader();
    if (json !== undefined) headers['content-type'] = 'application/json';
    const o = origin === undefined ? (method === 'GET' ? null : this.base) : origin;
    if (o) headers.origin = o;
    const res = await fetch(`${this.base}${path}`, {
      ...rest,
      method,
      headers,
      body: json !== undefined ? JSON.stringify(json) : rest.body,
      redirect: 'manual',
    });
    this.remember(res);
    return res;
  }

  async json<T = Record<string, unknown>>(
    path: string,
    init: RequestInit & { json?: unknown; origin?: string | null } = {},
  ): Promise<{ status: number; body: T }> {
    const res = await this.fetch(path, init);
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON (CSV, HTML)
    }
    return { status: res.status, body: body as T };
  }

  /** next-auth credentials sign-in; true when a session cookie was set. */
  async signIn(email: string, password: string): Promise<boolean> {
    const csrf = await this.json<{ csrfToken: string }>('/api/auth/csrf');
    const form = new URLSearchParams({
      email,
      password,
      csrfToken: csrf.body.csrfToken,
      json: 'true',
      callbackUrl: `${this.base}/sites`,
    });
    await this.fetch('/api/auth/callback/credentials', {
      method: 'POST',
      body: form.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    return [...this.cookies.keys()].some((k) => k.endsWith('next-auth.session-token'));
  }

  async signUp(email: string, password: string, name = 'Test'): Promise<void> {
    const r = await this.json('/api/signup', { method: 'POST', json: { email, password, name } });
    if (r.status !== 201) throw new Error(`sign-up failed: ${r.status} ${JSON.stringify(r.body)}`);
    if (!(await this.signIn(email, password))) throw new Error('sign-in after sign-up failed');
  }

  /** A Socket.IO client carrying this session's cookies (or a share token). */
  socket(auth?: { share: string }): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s = io(this.base, {
        path: '/socket.io',
        transports: ['websocket'],
        extraHeaders: { cookie: this.cookieHeader() },
        auth,
        reconnection: false,
        forceNew: true,
      });
      s.once('connect', () => resolve(s));
      s.once('connect_error', (e) => {
        s.close();
        reject(e);
      });
    });
  }
}

export function join(socket: Socket, siteId: string): Promise<{ ok: boolean; snapshot?: { siteId: string } }> {
  return new Promise((resolve) => socket.emit('join', siteId, resolve));
}
