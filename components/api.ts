// The browser side of Eddy's JSON API: one fetch wrapper that turns error envelopes into Errors.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(url: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  const { json, ...rest } = init;
  const res = await fetch(url, {
    ...rest,
    headers: { ...(json !== undefined ? { 'Content-Type': 'application/json' } : {}), ...rest.headers },
    body: json !== undefined ? JSON.stringify(json) : rest.body,
    credentials: 'same-origin',
  });
  const body = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
  if (!res.ok)
    throw new ApiError(
      res.status,
      body?.error?.code ?? 'internal',
      body?.error?.message ?? `Request failed (${res.status})`,
    );
  return body as T;
}

/** "email: must be…" → { field: 'email', message: 'must be…' } for showing next to a field. */
export function fieldError(e: unknown): { field: string | null; message: string } {
  const message = e instanceof Error ? e.message : 'Something went wrong';
  const m = /^([\w.]+): (.*)$/.exec(message);
  return m ? { field: m[1]!, message: m[2]! } : { field: null, message };
}
