import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Reader, type CountryResponse } from 'maxmind';
import { nonPublicReason } from '../../outbound/address-policy';

// The visitor's country, first of:
//   1. a CDN header the operator trusts (TRUSTED_COUNTRY_HEADER, e.g. cf-ipcountry);
//   2. the operator's MaxMind-format database (GEOIP_DATABASE), which replaces 3 entirely;
//   3. the embedded default: the country database of the npm package below, so a fresh install
//      shows countries without any setting. Its data is CC BY 4.0 (attribution to the NRO, see
//      README "Licence"), refreshed by bumping the package.
// Only public unicast addresses are looked up: a private, loopback or documentation address (a
// proxy that is not configured as trusted, a container network) has no country, and the embedded
// data wrongly lists some of those ranges (192.168/16 and 172.16/12 as AU, 2001:db8::/32 as JP).
// The IP is only looked up, never kept.

/** The embedded database: GeoFeed + RIR whois + ASN country data for IPv4 and IPv6 in one file. */
export const EMBEDDED_COUNTRY_PACKAGE = '@ip-location-db/geo-whois-asn-country-mmdb';
const EMBEDDED_COUNTRY_FILE = `${EMBEDDED_COUNTRY_PACKAGE}/geo-whois-asn-country.mmdb`;

let embeddedPath: string | undefined;

/** Absolute path of the embedded database, resolved like an import from here (node_modules, not the cwd). */
export function embeddedCountryDatabase(): string {
  // Resolved at run time, not bundled: the Next.js build would otherwise try to parse the .mmdb
  // as a module (tests/integration/countries.test.ts runs the Next.js collect route too).
  embeddedPath ??= createRequire(import.meta.url).resolve(/* webpackIgnore: true */ EMBEDDED_COUNTRY_FILE);
  return embeddedPath;
}

const readers = new Map<string, Reader<CountryResponse>>();

function geoReader(path: string): Reader<CountryResponse> {
  let reader = readers.get(path);
  if (reader === undefined) {
    reader = new Reader<CountryResponse>(readFileSync(path));
    readers.set(path, reader);
  }
  return reader;
}

/**
 * The ISO code of a record in either shape: MaxMind's `{ country: { iso_code } }` (GeoLite2/GeoIP2
 * Country and City) or ip-location-db's flat `{ country_code }`.
 */
function isoCodeOf(record: unknown): string | undefined {
  if (record === null || typeof record !== 'object') return undefined;
  const r = record as { country?: { iso_code?: unknown }; country_code?: unknown };
  const code = r.country?.iso_code ?? r.country_code;
  return typeof code === 'string' && /^[A-Z]{2}$/.test(code) ? code : undefined;
}

export function countryFor(input: {
  headerValue?: string | null;
  ip: string;
  geoDatabase?: string;
}): string | undefined {
  const h = input.headerValue?.trim().toUpperCase();
  // "XX"/"T1" are Cloudflare's unknown/Tor codes.
  if (h && /^[A-Z]{2}$/.test(h) && h !== 'XX' && h !== 'T1') return h;
  // The databases hold IPv4 networks under their own form, not under ::ffff:a.b.c.d.
  const ip = input.ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  if (nonPublicReason(ip) !== null) return undefined;
  const reader = geoReader(input.geoDatabase || embeddedCountryDatabase());
  try {
    return isoCodeOf(reader.get(ip));
  } catch {
    return undefined; // not an IP address the database understands
  }
}
