import { pool } from '../db/client';
import { MINUTE } from '@/lib/time';

// Rate limits for sign-in, sign-up, share-link passwords and the current password of a
// password change, kept in PostgreSQL so every web process counts the same attempts. An attempt
// is recorded *before* the password is checked and the failures in the window are counted
// including it, so concurrent guesses cannot slip past the limit together. Throttled attempts
// never reach the password check; sign-in answers them with the same generic error as a wrong
// password, a password change (the user is known) with 429 and Retry-After.

export type AttemptKind = 'login' | 'signup' | 'share' | 'password';

interface Limit {
  max: number;
  windowMs: number;
}

export const ATTEMPT_LIMITS: Record<AttemptKind, { perIp: Limit; perSubject?: Limit }> = {
  // Per account: 5 failures in 15 minutes locks that account (from every IP) until they age out.
  login: { perIp: { max: 20, windowMs: 15 * MINUTE }, perSubject: { max: 5, windowMs: 15 * MINUTE } },
  signup: { perIp: { max: 10, windowMs: 60 * MINUTE } },
  share: { perIp: { max: 20, windowMs: 15 * MINUTE }, perSubject: { max: 10, windowMs: 15 * MINUTE } },
  // Change password, subject = user id: a stolen session must not become a way to guess the
  // current password (and so learn a password the user may reuse elsewhere) without limit.
  password: { perIp: { max: 20, windowMs: 15 * MINUTE }, perSubject: { max: 5, windowMs: 15 * MINUTE } },
};

/**
 * Seconds until a throttled caller may try again. Throttled attempts are recorded as failures
 * too, so waiting a whole window after the last one is what it takes (and always enough).
 */
export function retryAfterSeconds(kind: AttemptKind): number {
  const l = ATTEMPT_LIMITS[kind];
  return Math.ceil(Math.max(l.perIp.windowMs, l.perSubject?.windowMs ?? 0) / 1000);
}

export interface Attempt {
  id: string;
  allowed: boolean;
}

export async function beginAttempt(
  kind: AttemptKind,
  ip: string,
  subject: string | null,
  limits = ATTEMPT_LIMITS[kind],
): Promise<Attempt> {
  const p = pool();
  const inserted = await p.query<{ id: string }>(
    'INSERT INTO auth_attempts (kind, ip, subject) VALUES ($1, $2, $3) RETURNING id',
    [kind, ip, subject],
  );
  const id = inserted.rows[0]!.id;
  const counts = await p.query<{ by_ip: number; by_subject: number }>(
    `SELECT count(*) FILTER (WHERE ip = $2 AND attempted_at > now() - make_interval(secs => $4::float8 / 1000))::int AS by_ip,
            count(*) FILTER (WHERE $3::text IS NOT NULL AND subject = $3 AND attempted_at > now() - make_interval(secs => $5::float8 / 1000))::int AS by_subject
       FROM auth_attempts
      WHERE kind = $1 AND NOT succeeded AND (ip = $2 OR subject = $3)
        AND attempted_at > now() - make_interval(secs => greatest($4, $5)::float8 / 1000)`,
    [kind, ip, subject, limits.perIp.windowMs, limits.perSubject?.windowMs ?? 0],
  );
  const c = counts.rows[0]!;
  const allowed =
    c.by_ip <= limits.perIp.max && (!limits.perSubject || subject === null || c.by_subject <= limits.perSubject.max);
  // Old rows are only needed for the window; prune now and then.
  if (Math.random() < 0.02)
    await p.query("DELETE FROM auth_attempts WHERE attempted_at < now() - interval '1 day'").catch(() => undefined);
  return { id, allowed };
}

/** A successful attempt stops counting, and clears the subject's earlier failures. */
export async function attemptSucceeded(kind: AttemptKind, attempt: Attempt, subject: string | null): Promise<void> {
  const p = pool();
  await p.query('UPDATE auth_attempts SET succeeded = true WHERE id = $1', [attempt.id]);
  if (subject !== null)
    await p.query('DELETE FROM auth_attempts WHERE kind = $1 AND subject = $2 AND NOT succeeded', [kind, subject]);
}
