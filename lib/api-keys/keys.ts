import { createHmac, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { createWithinLimit } from '../accounts/limits';
import { isUuid, type MemberSite } from '../auth/access';
import { authSecret } from '../auth/secret';
import { db } from '../db/client';
import { EddyError } from '../errors';
import { MINUTE } from '@/lib/time';

// API keys: the credentials of the events API (a customer's server sending events) and the stats
// API (a script reading numbers). This module owns the `api_keys` table.
//
// A key is 32 random bytes: with that much entropy a slow password hash buys nothing, and the
// key is checked on every API request, so it is stored as HMAC-SHA256 keyed with the install's
// secret (a stolen table alone cannot even be checked against guesses). The plaintext is returned
// once, by createApiKey, and never logged, stored or shown again; lists carry only its prefix.
// Changing AUTH_SECRET invalidates every key (stated in the README).

export const API_SCOPES = ['events:write', 'stats:read'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export const MAX_KEYS_PER_SITE = 20;
const KEY_PREFIX = 'eddy_';
/** Keys as we issue them: the prefix and 43 base64url characters (32 bytes). */
const KEY_FORMAT = /^eddy_[A-Za-z0-9_-]{43}$/;
/** Last-used times are written at most this often per key and process: one UPDATE per request would be a write per API call. */
const LAST_USED_EVERY_MS = MINUTE;

export const createApiKeySchema = z.object({
  label: z.string().trim().max(80).default(''),
  scopes: z
    .array(z.enum(API_SCOPES))
    .min(1)
    .max(API_SCOPES.length)
    .transform((s) => [...new Set(s)].sort()),
});

export function hashApiKey(key: string): string {
  return createHmac('sha256', authSecret()).update(`api-key:${key}`).digest('hex');
}

interface ApiKeyRow {
  id: string;
  label: string;
  scopes: string[];
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface PublicApiKey {
  id: string;
  label: string;
  scopes: string[];
  /** The first characters of the key (e.g. "eddy_Ab3x"), to tell keys apart. */
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

function publicApiKey(k: ApiKeyRow): PublicApiKey {
  return {
    id: k.id,
    label: k.label,
    scopes: k.scopes,
    prefix: k.prefix,
    createdAt: k.createdAt.toISOString(),
    lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
    revokedAt: k.revokedAt?.toISOString() ?? null,
  };
}

/** Creates a key for the site (the caller checked the admin role). The plaintext `key` is in this answer only. */
export async function createApiKey(
  site: Pick<MemberSite, 'id'>,
  createdById: string | null,
  input: z.infer<typeof createApiKeySchema>,
): Promise<{ key: string; apiKey: PublicApiKey }> {
  const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  const row = await createWithinLimit(
    `api-keys:${site.id}`,
    MAX_KEYS_PER_SITE,
    `A site can have at most ${MAX_KEYS_PER_SITE} active API keys; revoke one first`,
    (tx) => tx.apiKey.count({ where: { siteId: site.id, revokedAt: null } }),
    (tx) =>
      tx.apiKey.create({
        data: {
          siteId: site.id,
          label: input.label,
          scopes: input.scopes,
          prefix: key.slice(0, 9),
          keyHash: hashApiKey(key),
          createdById,
        },
      }),
  );
  return { key, apiKey: publicApiKey(row) };
}

/**
 * The demo server's key (`npm start` with EDDY_DEMO): the one kept in `file` while it is still
 * valid for the demo site, else a new events:write key, written there (mode 600) for the demo
 * server to read. The launcher is the only caller; the key never goes to a log or the terminal.
 */
export async function ensureDemoApiKey(
  siteId: string,
  read: () => string | null,
  write: (key: string) => void,
): Promise<void> {
  const existing = read();
  if (existing && KEY_FORMAT.test(existing)) {
    const row = await db().apiKey.findUnique({
      where: { keyHash: hashApiKey(existing) },
      select: { siteId: true, revokedAt: true },
    });
    if (row && row.siteId === siteId && !row.revokedAt) return;
  }
  const { key } = await createApiKey({ id: siteId }, null, {
    label: 'Demo server (npm start)',
    scopes: ['events:write'],
  });
  write(key);
}

export async function listApiKeys(site: MemberSite): Promise<PublicApiKey[]> {
  const rows = await db().apiKey.findMany({ where: { siteId: site.id }, orderBy: { createdAt: 'asc' } });
  return rows.map(publicApiKey);
}

/** Revokes one of the site's keys at once (the next request with it gets 401); another site's key id is "not found". */
export async function revokeApiKey(site: MemberSite, keyId: string): Promise<void> {
  if (!isUuid(keyId)) throw new EddyError('not_found', 'API key not found');
  const r = await db().apiKey.updateMany({
    where: { id: keyId, siteId: site.id, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  if (r.count === 0) {
    const exists = await db().apiKey.count({ where: { id: keyId, siteId: site.id } });
    if (!exists) throw new EddyError('not_found', 'API key not found');
  }
}

/** What an authenticated API request may act on. */
export interface ApiPrincipal {
  keyId: string;
  scopes: ApiScope[];
  site: {
    id: string;
    publicKey: string;
    timezone: string;
    sessionGapMinutes: number;
    saltRotation: string;
    rateLimitPerMinute: number;
  };
}

const lastUsedWritten = new Map<string, number>();

/**
 * The key in an `Authorization: Bearer <key>` header, checked: 401 when missing, unknown or
 * revoked (the same answer, so a revoked key tells nothing), 403 when it lacks `scope`. The
 * site it belongs to comes with it; a request naming another site is answered 404 by the caller.
 */
export async function authenticateApiKey(
  authorization: string | null,
  scope: ApiScope,
  now = Date.now(),
): Promise<ApiPrincipal> {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!m) throw new EddyError('unauthorized', 'Send an API key as "Authorization: Bearer <key>"');
  const key = m[1]!;
  if (!KEY_FORMAT.test(key)) throw new EddyError('unauthorized', 'Invalid API key');
  const row = await db().apiKey.findUnique({
    where: { keyHash: hashApiKey(key) },
    select: { id: true, scopes: true, revokedAt: true, siteId: true },
  });
  if (!row || row.revokedAt) throw new EddyError('unauthorized', 'Invalid API key');
  if (!row.scopes.includes(scope)) throw new EddyError('forbidden', `This API key lacks the ${scope} scope`);
  const site = await db().site.findUnique({
    where: { id: row.siteId },
    select: {
      id: true,
      publicKey: true,
      timezone: true,
      sessionGapMinutes: true,
      saltRotation: true,
      rateLimitPerMinute: true,
    },
  });
  if (!site) throw new EddyError('unauthorized', 'Invalid API key');
  touchLastUsed(row.id, now);
  return {
    keyId: row.id,
    scopes: row.scopes.filter((s): s is ApiScope => (API_SCOPES as readonly string[]).includes(s)),
    site,
  };
}

function touchLastUsed(keyId: string, now: number): void {
  if (now - (lastUsedWritten.get(keyId) ?? 0) < LAST_USED_EVERY_MS) return;
  lastUsedWritten.set(keyId, now);
  if (lastUsedWritten.size > 10_000) lastUsedWritten.clear();
  // Not awaited: the time a key was last used is bookkeeping, never worth delaying or failing a request.
  void db()
    .apiKey.update({ where: { id: keyId }, data: { lastUsedAt: new Date(now) } })
    .catch(() => undefined);
}
