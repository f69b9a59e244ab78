import { z } from 'zod';
import { EddyError } from './errors';

// The only module that reads process.env. Parsed once; an empty string counts as unset so
// `FOO=` in a shell or compose file means "use the default", not "set to nothing".

const port = z.coerce.number().int().min(1).max(65535);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** postgres://… When unset, `npm start` runs embedded PostgreSQL and sets it for its children. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  /** Comma-separated host:port list. When set the bus is Kafka; otherwise the embedded log in PostgreSQL. */
  KAFKA_BROKERS: z
    .string()
    .regex(/^[\w.-]+:\d+(,[\w.-]+:\d+)*$/, 'must be a comma-separated list of host:port')
    .transform((s) => s.split(','))
    .optional(),
  /** The Kafka `npm test`, the benches and the chaos suite start from Maven jars: the newest release supported. */
  KAFKA_VERSION: z
    .string()
    .regex(/^\d+\.\d+\.\d+$/, 'must look like 4.4.0')
    .default('4.4.0'),
  /** Older Kafka releases `npm test` runs the Kafka-facing files against once more (scripts/kafka-compat.ts); `none` skips that. */
  KAFKA_COMPAT_VERSIONS: z
    .string()
    .regex(/^(none|\d+\.\d+\.\d+(,\d+\.\d+\.\d+)*)$/, "must be 'none' or a comma-separated list like 3.9.1,4.0.2")
    .transform((s) => (s === 'none' ? [] : s.split(',')))
    .default(['3.9.1']),
  KAFKA_PORT: port.default(9092),
  HOST: z.string().default('127.0.0.1'),
  PORT: port.default(3000),
  /** The URL users and the snippet reach Eddy at. Defaults to http://localhost:PORT. */
  PUBLIC_URL: z.url().optional(),
  EDDY_DATA_DIR: z.string().default('.eddy'),
  EMBEDDED_PG_PORT: port.default(54329),
  /** Prefix for topic and consumer-group names, so several Eddy installations (or test stacks) can share one Kafka. */
  BUS_NAMESPACE: z
    .string()
    .regex(/^[\w.-]{0,40}$/, 'may contain letters, digits, dot, dash and underscore (max 40)')
    .default(''),
  EVENTS_PARTITIONS: z.coerce.number().int().min(1).max(256).default(6),
  /** How long the collect endpoint waits for the bus before answering 503 + Retry-After. */
  COLLECT_DEADLINE_MS: z.coerce.number().int().min(50).max(30_000).default(2000),
  /** Who answers /api/collect in the web process: plain node:http before Next.js (edge, fast) or the Next.js route handler. */
  COLLECT_VIA: z.enum(['edge', 'next']).default('edge'),
  /** Events per minute one client address (IPv6: one /64) may send, whatever the site; beyond it they are dropped as rate-limited. */
  COLLECT_IP_RATE_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(1200),
  /** Events per minute one visitor (site + visitor id) may send. */
  COLLECT_VISITOR_RATE_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(240),
  /** Header carrying the client IP set by a proxy you trust (e.g. x-forwarded-for). Unset: use the socket address. */
  TRUSTED_PROXY_HEADER: z.string().toLowerCase().optional(),
  /** Header with the visitor's ISO country code set by a CDN you trust (e.g. cf-ipcountry). */
  TRUSTED_COUNTRY_HEADER: z.string().toLowerCase().optional(),
  /** A MaxMind-format (.mmdb) country or city database, used when no trusted country header is present; replaces the embedded default (lib/collect/enrich/country.ts). */
  GEOIP_DATABASE: z.string().optional(),
  /** Signs session JWTs. `npm start` generates and keeps one in EDDY_DATA_DIR when unset. */
  AUTH_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  EDDY_DEMO: bool.default(true),
  /** Port of the demo Express server `npm start` runs beside Eddy (EDDY_DEMO), whose requests @eddy/node reports to the demo site. */
  DEMO_SERVER_PORT: port.default(3001),
  /** Optional OAuth sign-in: a provider is offered only when both its id and secret are set. */
  GITHUB_ID: z.string().optional(),
  GITHUB_SECRET: z.string().optional(),
  GOOGLE_ID: z.string().optional(),
  GOOGLE_SECRET: z.string().optional(),
  /** How often the workers reload their dimension table (sites, content groups, timezones). */
  DIMENSION_REFRESH_MS: z.coerce.number().int().min(100).max(86_400_000).default(30_000),
  /** How often the insights and funnels jobs reload goals and funnels (a new goal counts from then; the backfill covers before). */
  DEFINITIONS_REFRESH_MS: z.coerce.number().int().min(100).max(86_400_000).default(5000),
  /** Roll up custom event properties (top values per key); off: event names only (fewer rows per event). */
  EVENT_PROPERTY_BREAKDOWNS: bool.default(true),
  /** Event-time tolerance of the jobs: out-of-orderness bound and allowed lateness. */
  OUT_OF_ORDERNESS_MS: z.coerce.number().int().min(0).max(3_600_000).default(15_000),
  ALLOWED_LATENESS_MS: z.coerce.number().int().min(0).max(86_400_000).default(300_000),
  /** A worker silent this long loses its partitions to the rest of its consumer group (failover time after a crash). */
  CONSUMER_SESSION_TIMEOUT_MS: z.coerce.number().int().min(1000).max(300_000).default(10_000),
  /**
   * How many partitions a worker applies at once, per stream job, each in a transaction on its own
   * connection. 1 by default: with PostgreSQL on the same cores, transactions only got slower in
   * step (docs/BENCHMARKS.md, e2e-latency 2026-12-06 23:20); raise it when the database has cores
   * to spare and a worker's batches wait on round trips rather than on CPU.
   */
  CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(1),
  /** A partition silent this long stops holding the watermark back. */
  IDLE_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  /** Test builds only: a named point where a worker kills itself (kill -9 semantics), for crash tests. */
  EDDY_TEST_CRASH_POINT: z
    .enum(['before-tx', 'mid-tx', 'after-commit-before-offset', 'after-offset-before-live'])
    .optional(),
  /**
   * Test builds only: a deliberately broken variant of the effectively-once runtime, so the fault
   * suite can prove it catches each mistake (negative controls). Never set in production.
   */
  EDDY_TEST_BROKEN_VARIANT: z
    .enum(['commit-offset-before-tx', 'no-offset-filter', 'no-event-id-dedup', 'no-poison-guards'])
    .optional(),
  // 'no-poison-guards' is Eddy before issue 13: strings are not made storable and apply errors are rethrown.
  /** Test builds only: crash at that point on the Nth batch (default 1st). */
  EDDY_TEST_CRASH_AFTER: z.coerce.number().int().min(1).default(1),
  /** Test builds only: count and crash in this job's batches only (default: every job the process runs). */
  EDDY_TEST_CRASH_JOB: z.string().min(1).optional(),
  /** Chromium for the browser tests (Debian's package). */
  CHROMIUM_PATH: z.string().default('/usr/bin/chromium'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** SMTP server for alert and digest email, e.g. smtp://user:pass@mail.example.com:587. Unset: email channels are logged as failed. */
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
    .optional(),
  SMTP_FROM: z.string().default('Eddy <alerts@eddy.localhost>'),
  /**
   * Let alert webhooks and other user-supplied URLs reach loopback, private (RFC 1918, CGNAT,
   * fc00::/7) and link-local addresses. Off by default: on a multi-tenant install those URLs are
   * an SSRF path into your network. Turn on only for a self-hosted install whose receivers live
   * there. Cloud metadata addresses stay refused either way.
   */
  OUTBOUND_ALLOW_PRIVATE: bool.default(false),
  /** Connections for filtered dashboard queries (raw events), apart from the main pool of 10. */
  ANALYTICS_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(4),
  /**
   * Where filtered dashboards are computed: `columnar` (default) keeps event and visit facts in an
   * embedded DuckDB per web process, following PostgreSQL by transaction id
   * (lib/analytics/columnar/); `postgres` computes them from the fact tables in PostgreSQL, as the
   * columnar engine also does while its copy loads or is held back.
   */
  FILTER_ENGINE: z.enum(['columnar', 'postgres']).default('columnar'),
  /** Memory the columnar copy may use per web process (DuckDB's memory_limit), e.g. `2GB`. */
  COLUMNAR_MEMORY_LIMIT: z
    .string()
    .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i)
    .default('4GB'),
  /** Filtered queries one site may run at once (per web process); more wait, and past 32 waiting they get 429. */
  ANALYTICS_SITE_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(2),
  /** Requests one public share link may have in flight at once (per web process); more wait, past 16 waiting 429. */
  SHARE_LINK_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(2),
  /** Requests per minute one client address may make to one public share link. */
  SHARE_LINK_RATE_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(300),
  /** Requests per minute one API key may make to the events and stats APIs (per web process); more get 429 + Retry-After. */
  API_KEY_RATE_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(600),
  /** How often the alerts job measures freshness and evaluates alert rules. */
  ALERTS_INTERVAL_MS: z.coerce.number().int().min(200).max(60_000).default(2000),
  /** How often the retention job drops raw events past each site's retention and measures the archive (issue 16). */
  RETENTION_INTERVAL_MS: z.coerce.number().int().min(1000).max(86_400_000).default(3_600_000),
  /**
   * Zero-config mode: how long the embedded log (bus_messages) keeps a record, by its timestamp,
   * like Kafka's retention.ms (7 days). The retention job trims older records, but never one a
   * consumer group has not committed past.
   */
  EMBEDDED_LOG_RETENTION_MS: z.coerce.number().int().min(60_000).max(31_536_000_000).default(604_800_000),
  /** Comma-separated emails allowed to see the pipeline page, besides the install's first account (users.is_operator). */
  EDDY_OPERATORS: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((e) => e.trim().toLowerCase())
        .filter(Boolean),
    )
    .optional(),
});

export type Env = z.infer<typeof schema>;

/** Every setting's name (compose files and other launchers are checked against it). */
export const SETTING_NAMES: readonly string[] = Object.keys(schema.shape);

/** Pure parser, exported for tests. Throws one EddyError whose message names the variable. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = source[key];
    if (value !== undefined && value.trim() !== '') cleaned[key] = value.trim();
  }
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    const got = cleaned[name] !== undefined ? ` (got "${cleaned[name]}")` : '';
    throw new EddyError('config', `Invalid setting ${name}: ${issue.message}${got}`);
  }
  return parsed.data;
}

let cached: Env | undefined;

/** The process's configuration, parsed on first use and then fixed. */
export function env(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}

/**
 * Sets variables for child processes we spawn (e.g. DATABASE_URL of embedded PostgreSQL).
 * Kept here so that writing the environment, like reading it, happens in one module.
 */
export function childEnv(overrides: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** Overrides this process's settings (used by the launcher after it starts embedded services). */
export function setEnv(overrides: Record<string, string | undefined>): Env {
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  cached = parseEnv(process.env);
  return cached;
}

export function publicUrl(): string {
  const e = env();
  return e.PUBLIC_URL ?? `http://localhost:${e.PORT}`;
}
