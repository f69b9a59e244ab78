import { createHash } from 'node:crypto';
import { campaignFrom } from '../collect/enrich/campaign';
import { classifyChannel } from '../collect/enrich/channel';
import { eventRecordSchema, type EventRecord } from '../events/record';
import { propValueKey } from '../insights/kinds';
import { storable, storableText } from '../events/storable';
import { parseCsv } from './csv-parse';

// The export formats of the tools people leave for Eddy, read into Eddy's own shapes. Pure.
//
// - Umami: its data export's `website_event` CSV (one row per pageview or custom event:
//   event_id, session_id, created_at, url_path, url_query, referrer_domain, browser, os, device,
//   country, event_type 1 = pageview / 2 = custom event, event_name, …).
// - GA4: the BigQuery event export as NDJSON, one event per line (event_timestamp in µs,
//   event_name, event_params [{key, value: {string_value | int_value …}}], user_pseudo_id,
//   device {category, operating_system, web_info {browser}}, geo {country (a name)}).
// - Plausible: its CSV export (a zip of imported_<table>_<from>_<to>.csv); it holds daily
//   aggregates only — imported_visitors (date, visitors, pageviews, bounces, visits,
//   visit_duration), imported_pages (date, hostname, page, visitors, pageviews, …) and one table
//   per breakdown: sources (source, utm_*), entry_pages (entrances), exit_pages (exits),
//   locations (country), devices, browsers, operating_systems — each with visitors, visits,
//   visit_duration, bounces (columns read by name: Plausible's versions differ in which they add) —
//   and imported_custom_events (date, name, link_url, path, visitors, events): goal and custom
//   event counts per day, which become the insights panels' day rows.
//
// Raw events become EventRecords with ids derived from the site and the source's own identity of
// the event, so importing the same file twice — or a later export that overlaps it — counts each
// event once (the jobs deduplicate by event id). Visitor ids are hashed with the site, never the
// source's ids as they are. Every row not imported is counted under a reason.

export type Source = 'plausible' | 'umami' | 'ga4';
export const SOURCES: Source[] = ['plausible', 'umami', 'ga4'];

export class Skips {
  readonly counts = new Map<string, number>();
  add(reason: string, n = 1): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + n);
  }
  get total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }
  toJSON(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}

export interface ParsedEvents {
  read: number;
  records: EventRecord[];
  skips: Skips;
}

/** A UUID (version 5 layout) from a hash: the same inputs always give the same event id. */
export function derivedId(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

const visitor = (siteId: string, source: Source, id: string) =>
  createHash('sha256').update(`${siteId}\u0000${source}\u0000${id}`).digest('base64url').slice(0, 32);

const DEVICES = new Set(['desktop', 'mobile', 'tablet']);
function device(d: string | undefined): EventRecord['device'] {
  const v = (d ?? '').toLowerCase();
  if (v === 'laptop') return 'desktop';
  return DEVICES.has(v) ? (v as EventRecord['device']) : 'other';
}

// Umami's browser keys (its detect list) → the names Eddy's user-agent parser gives.
const UMAMI_BROWSERS: Record<string, string> = {
  chrome: 'Chrome',
  crios: 'Chrome',
  firefox: 'Firefox',
  fxios: 'Firefox',
  safari: 'Safari',
  ios: 'Mobile Safari',
  'ios-webview': 'Mobile Safari',
  'edge-chromium': 'Edge',
  edge: 'Edge',
  'edge-ios': 'Edge',
  opera: 'Opera',
  samsung: 'Samsung Browser',
  yandexbrowser: 'Yandex',
  brave: 'Brave',
};
const UMAMI_OS: Record<string, string> = { 'mac os': 'macOS', 'android os': 'Android', 'chrome os': 'Chrome OS' };

function finish(input: unknown, skips: Skips): EventRecord | null {
  const parsed = eventRecordSchema.safeParse(storable(input));
  if (!parsed.success) {
    skips.add(`invalid event (${parsed.error.issues[0]!.path.join('.') || 'value'})`);
    return null;
  }
  return parsed.data;
}

function pageFields(siteHosts: readonly string[], url: URL, referrer: string | undefined) {
  let referrerHost: string | undefined;
  try {
    referrerHost = referrer ? new URL(referrer.includes('://') ? referrer : `https://${referrer}`).hostname : undefined;
  } catch {
    referrerHost = undefined;
  }
  const campaign = campaignFrom(url);
  return {
    url: url.toString().slice(0, 2000),
    hostname: url.hostname,
    path: url.pathname,
    referrer: referrer ? referrer.slice(0, 2000) : undefined,
    referrerHost,
    utm: campaign.utm,
    clickIds: campaign.clickIds,
    channel: classifyChannel({ pageHost: url.hostname, referrerHost, campaign, siteHosts }),
  };
}

export function parseUmami(text: string, site: { id: string; domain: string; hosts: readonly string[] }): ParsedEvents {
  const out: ParsedEvents = { read: 0, records: [], skips: new Skips() };
  for (const row of parseCsv(text)) {
    out.read++;
    if (!row.ok) {
      out.skips.add(row.reason);
      continue;
    }
    const c = row.cells;
    if (!('created_at' in c) || !('url_path' in c) || !('session_id' in c)) {
      out.skips.add('not a Umami website_event row (created_at, url_path, session_id)');
      continue;
    }
    const ts = Date.parse(
      /[zZ]|[+-]\d\d:?\d\d$/.test(c.created_at!) ? c.created_at! : `${c.created_at!.replace(' ', 'T')}Z`,
    );
    if (!Number.isFinite(ts)) {
      out.skips.add('bad timestamp');
      continue;
    }
    const type = c.event_type ?? '1';
    if (type !== '1' && type !== '2') {
      out.skips.add(`event type ${type.slice(0, 10)} not imported`);
      continue;
    }
    let url: URL;
    try {
      url = new URL(
        `${c.url_path || '/'}${c.url_query ? `?${c.url_query}` : ''}`,
        `https://${c.hostname || site.domain}`,
      );
    } catch {
      out.skips.add('bad URL');
      continue;
    }
    const referrer = c.referrer_domain
      ? `https://${c.referrer_domain}${c.referrer_path ?? ''}${c.referrer_query ? `?${c.referrer_query}` : ''}`
      : undefined;
    const sourceId = c.event_id || `${c.session_id}|${c.created_at}|${c.url_path}|${c.event_name ?? ''}`;
    const record = finish(
      {
        v: 1,
        eventId: derivedId(site.id, 'umami', sourceId),
        siteId: site.id,
        visitorId: visitor(site.id, 'umami', c.session_id!),
        name: type === '2' ? c.event_name || 'event' : 'pageview',
        ...pageFields(site.hosts, url, referrer),
        device: device(c.device),
        browser: UMAMI_BROWSERS[(c.browser ?? '').toLowerCase()] ?? (c.browser || 'Unknown'),
        os: UMAMI_OS[(c.os ?? '').toLowerCase()] ?? (c.os || 'Unknown'),
        country: c.country && /^[A-Za-z]{2}$/.test(c.country) ? c.country.toUpperCase() : undefined,
        ts,
        receivedAt: ts,
      },
      out.skips,
    );
    if (record) out.records.push(record);
  }
  return out;
}

// GA4's automatically collected events that are not pageviews: they describe the session, not
// something the site owner chose to track, and Eddy derives visits itself.
const GA4_AUTOMATIC = new Set([
  'session_start',
  'first_visit',
  'user_engagement',
  'first_open',
  'app_remove',
  'screen_view',
]);

let countryCodes: Map<string, string> | undefined;
/** GA4 names countries ("Germany"); Eddy keeps ISO codes. Built from the runtime's own region names. */
export function countryCode(name: string): string | undefined {
  if (!countryCodes) {
    countryCodes = new Map();
    const names = new Intl.DisplayNames(['en'], { type: 'region' });
    for (let a = 65; a <= 90; a++) {
      for (let b = 65; b <= 90; b++) {
        const code = String.fromCharCode(a, b);
        const n = names.of(code);
        if (n && n !== code) countryCodes.set(n.toLowerCase(), code);
      }
    }
    countryCodes.set('united states', 'US');
  }
  return countryCodes.get(name.toLowerCase());
}

type Ga4Param = {
  key?: unknown;
  value?: { string_value?: unknown; int_value?: unknown; double_value?: unknown; float_value?: unknown };
};

export function parseGa4(text: string, site: { id: string; domain: string; hosts: readonly string[] }): ParsedEvents {
  const out: ParsedEvents = { read: 0, records: [], skips: new Skips() };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    out.read++;
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(line) as Record<string, unknown>;
    } catch {
      out.skips.add('not JSON');
      continue;
    }
    if (typeof e !== 'object' || e === null || Array.isArray(e)) {
      out.skips.add('not a GA4 event row');
      continue;
    }
    const name = typeof e.event_name === 'string' ? e.event_name : '';
    const micros = Number(e.event_timestamp);
    if (!name || !Number.isFinite(micros) || micros <= 0) {
      out.skips.add('missing event_name or event_timestamp');
      continue;
    }
    if (GA4_AUTOMATIC.has(name)) {
      out.skips.add(`GA4 automatic event (${name})`);
      continue;
    }
    const params = new Map<string, string | number>();
    for (const p of Array.isArray(e.event_params) ? (e.event_params as Ga4Param[]) : []) {
      const v = p.value?.string_value ?? p.value?.int_value ?? p.value?.double_value ?? p.value?.float_value;
      if (typeof p.key === 'string' && (typeof v === 'string' || typeof v === 'number')) params.set(p.key, v);
    }
    const location = params.get('page_location');
    let url: URL;
    try {
      url = new URL(typeof location === 'string' ? location : '/', `https://${site.domain}`);
    } catch {
      out.skips.add('bad page_location');
      continue;
    }
    const pseudo = typeof e.user_pseudo_id === 'string' && e.user_pseudo_id ? e.user_pseudo_id : null;
    if (!pseudo) {
      out.skips.add('missing user_pseudo_id');
      continue;
    }
    const dev = (e.device ?? {}) as { category?: string; operating_system?: string; web_info?: { browser?: string } };
    const geo = (e.geo ?? {}) as { country?: string };
    const referrer = params.get('page_referrer');
    const props: Record<string, string | number> = {};
    if (name !== 'page_view') {
      for (const [k, v] of params)
        if (
          !k.startsWith('page_') &&
          !k.startsWith('ga_') &&
          ![
            'engagement_time_msec',
            'engaged_session_event',
            'session_engaged',
            'batch_page_id',
            'batch_ordering_id',
          ].includes(k) &&
          Object.keys(props).length < 30
        )
          props[k.slice(0, 100)] = typeof v === 'string' ? v.slice(0, 500) : v;
    }
    const record = finish(
      {
        v: 1,
        // GA4 has no event id: the event's own line identifies it.
        eventId: derivedId(site.id, 'ga4', line),
        siteId: site.id,
        visitorId: visitor(site.id, 'ga4', pseudo),
        name: name === 'page_view' ? 'pageview' : name.slice(0, 120),
        ...pageFields(site.hosts, url, typeof referrer === 'string' && referrer ? referrer : undefined),
        props: Object.keys(props).length ? props : undefined,
        device: device(dev.category),
        browser: dev.web_info?.browser || 'Unknown',
        os: dev.operating_system || 'Unknown',
        country: geo.country ? countryCode(geo.country) : undefined,
        ts: Math.floor(micros / 1000),
        receivedAt: Math.floor(micros / 1000),
      },
      out.skips,
    );
    if (record) out.records.push(record);
  }
  return out;
}

/** The rollup dimensions a Plausible export fills ('' = the totals). */
export const IMPORTED_DIMENSIONS = [
  '',
  'page',
  'entry_page',
  'exit_page',
  'referrer',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'country',
  'device',
  'browser',
  'os',
] as const;
export type ImportedDimension = (typeof IMPORTED_DIMENSIONS)[number];

export interface DailyAggregate {
  date: string;
  /** '' for the totals, else a rollup dimension. */
  dimension: ImportedDimension;
  value: string;
  visitors: number;
  pageviews: number;
  visits: number;
  bounces: number;
  durationS: number;
}

/** What the insights panels read (event_rollups kinds) that a Plausible export fills. */
export const IMPORTED_EVENT_KINDS = ['event', 'prop', 'outbound', 'download', '404'] as const;
export type ImportedEventKind = (typeof IMPORTED_EVENT_KINDS)[number];

/** One day's count of one event (or property value, link, 404 path), as the insights job keys it. */
export interface DailyEventAggregate {
  date: string;
  kind: ImportedEventKind;
  value: string;
  visitors: number;
  events: number;
}

export interface ParsedAggregates {
  read: number;
  rows: DailyAggregate[];
  /** From imported_custom_events. */
  events: DailyEventAggregate[];
  skips: Skips;
}

const PLAUSIBLE_FILE = /(?:^|\/)imported_([a-z_]+?)(?:_\d{8}_\d{8})?\.csv$/;
const int = (s: string | undefined) => (s !== undefined && /^\d{1,12}$/.test(s.trim()) ? Number(s.trim()) : null);
const isDate = (s: string | undefined) =>
  !!s && /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`));
// Bounded and storable (a cut can split a surrogate pair; a file can hold NUL): PostgreSQL refuses both.
const text = (s: string | undefined, max = 500) => storableText((s ?? '').trim().slice(0, max));

type Cells = Record<string, string | undefined>;
/** Per table: the (dimension, value) pairs a row counts under (null: the row is refused, with a reason), and the column that counts its visits. */
const PLAUSIBLE_TABLES: Record<
  string,
  { values: (c: Cells) => [ImportedDimension, string][] | string; visits: string; sums: boolean }
> = {
  visitors: { values: () => [['', '']], visits: 'visits', sums: false },
  pages: {
    values: (c) => {
      const page = text(c.page, 2000);
      return page.startsWith('/') ? [['page', page]] : 'bad page';
    },
    visits: 'visits',
    sums: false,
  },
  entry_pages: {
    values: (c) => (text(c.entry_page, 2000).startsWith('/') ? [['entry_page', text(c.entry_page, 2000)]] : 'bad page'),
    visits: 'entrances',
    sums: true,
  },
  exit_pages: {
    values: (c) => (text(c.exit_page, 2000).startsWith('/') ? [['exit_page', text(c.exit_page, 2000)]] : 'bad page'),
    visits: 'exits',
    sums: true,
  },
  sources: {
    // One row per source and UTM combination: a source's rows add up, and so do a medium's.
    values: (c) => {
      const source = text(c.source);
      const out: [ImportedDimension, string][] = [
        ['referrer', source === '' || /^direct/i.test(source) ? '(direct)' : source],
      ];
      if (text(c.utm_source)) out.push(['utm_source', text(c.utm_source)]);
      if (text(c.utm_medium)) out.push(['utm_medium', text(c.utm_medium)]);
      if (text(c.utm_campaign)) out.push(['utm_campaign', text(c.utm_campaign)]);
      return out;
    },
    visits: 'visits',
    sums: true,
  },
  // Plausible keeps ISO 3166-1 alpha-2 codes, as Eddy does; a row per region and city adds up.
  locations: {
    values: (c) => [['country', /^[A-Z]{2}$/.test(text(c.country)) ? text(c.country) : '(unknown)']],
    visits: 'visits',
    sums: true,
  },
  devices: { values: (c) => [['device', device(text(c.device))]], visits: 'visits', sums: true },
  browsers: { values: (c) => [['browser', text(c.browser) || 'Unknown']], visits: 'visits', sums: true },
  operating_systems: { values: (c) => [['os', text(c.operating_system) || 'Unknown']], visits: 'visits', sums: true },
};

/**
 * Where a row of Plausible's imported_custom_events (date, name, link_url, path, visitors, events)
 * counts in Eddy: Plausible's own automatic events go to the panels Eddy's tracker fills with
 * its automatic ones (outbound links and downloads by URL, 404s by path); every other name is a
 * custom event, with its link or path as a property (Plausible's `url` and `path` props).
 */
function plausibleEvent(c: Cells): [ImportedEventKind, string][] | string {
  const name = text(c.name, 120);
  if (name === '') return 'no event name';
  const link = text(c.link_url, 2000);
  const path = text(c.path, 2000);
  if (name === 'Outbound Link: Click') return [['outbound', link || '(unknown)']];
  if (name === 'File Download') return [['download', link || '(unknown)']];
  if (name === '404') return [['404', path || link || '(unknown)']];
  const out: [ImportedEventKind, string][] = [['event', name]];
  if (link) out.push(['prop', propValueKey(name, 'url', link)]);
  if (path) out.push(['prop', propValueKey(name, 'path', path)]);
  return out;
}

/** A Plausible CSV's rows that parse and carry a date; the others are counted as skipped with their reason. */
function* datedRows(data: Buffer, out: ParsedAggregates): Generator<Cells & { date: string }> {
  for (const row of parseCsv(data.toString('utf8'))) {
    out.read++;
    if (!row.ok) out.skips.add(row.reason);
    else if (!isDate(row.cells.date)) out.skips.add('bad date');
    else yield row.cells as Cells & { date: string };
  }
}

function parsePlausibleEvents(data: Buffer, out: ParsedAggregates, summed: Map<string, DailyEventAggregate>): void {
  for (const c of datedRows(data, out)) {
    const visitors = int(c.visitors);
    const events = int(c.events);
    if (visitors === null || events === null) {
      out.skips.add('bad number');
      continue;
    }
    const values = plausibleEvent(c);
    if (typeof values === 'string') {
      out.skips.add(values);
      continue;
    }
    // One row per (name, link, path): an event's rows add up, as the other tables' do.
    for (const [kind, value] of values) {
      const k = `${c.date}|${kind}|${value}`;
      const prev = summed.get(k);
      if (!prev) summed.set(k, { date: c.date, kind, value, visitors, events });
      else {
        prev.visitors += visitors;
        prev.events += events;
      }
    }
  }
}

export function parsePlausible(files: { name: string; data: Buffer }[]): ParsedAggregates {
  const out: ParsedAggregates = { read: 0, rows: [], events: [], skips: new Skips() };
  const summed = new Map<string, DailyAggregate>();
  const events = new Map<string, DailyEventAggregate>();
  for (const f of files) {
    const table = PLAUSIBLE_FILE.exec(f.name)?.[1];
    if (table === 'custom_events') {
      parsePlausibleEvents(f.data, out, events);
      continue;
    }
    const spec = table === undefined ? undefined : PLAUSIBLE_TABLES[table];
    if (!spec) {
      // Counted per file: the README lists the tables Eddy reads.
      out.skips.add(table ? `imported_${table} not imported` : `${f.name.slice(0, 80)}: not a Plausible export file`);
      continue;
    }
    for (const c of datedRows(f.data, out)) {
      const visitors = int(c.visitors);
      // The totals need their pageviews; breakdown tables may not carry any (older exports).
      const pageviews = table === 'visitors' || table === 'pages' ? int(c.pageviews) : (int(c.pageviews) ?? 0);
      if (visitors === null || pageviews === null) {
        out.skips.add('bad number');
        continue;
      }
      const values = spec.values(c);
      if (typeof values === 'string') {
        out.skips.add(values);
        continue;
      }
      const counts = {
        visitors,
        pageviews,
        visits: int(c[spec.visits]) ?? 0,
        bounces: int(c.bounces) ?? 0,
        durationS: int(c.visit_duration) ?? 0,
      };
      for (const [dimension, value] of values) {
        const r: DailyAggregate = { date: c.date, dimension, value, ...counts };
        if (!spec.sums) {
          out.rows.push(r);
          continue;
        }
        const k = `${r.date}|${dimension}|${value}`;
        const prev = summed.get(k);
        if (!prev) summed.set(k, r);
        else for (const m of ['visitors', 'pageviews', 'visits', 'bounces', 'durationS'] as const) prev[m] += r[m];
      }
    }
  }
  out.rows.push(...summed.values());
  out.events.push(...events.values());
  return out;
}
