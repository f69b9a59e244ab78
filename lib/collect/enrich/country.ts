import { readFileSync } from 'node:fs';
import { Reader, type CountryResponse } from 'maxmind';

// Country from a CDN header the operator trusts (e.g. cf-ipcountry), or from a MaxMind-format
// database file when one is configured. The IP is only looked up, never kept.

let reader: Reader<CountryResponse> | null | undefined;
let readerPath: string | undefined;

function geoReader(path: string | undefined): Reader<CountryResponse> | null {
  if (!path) return null;
  if (reader === undefined || readerPath !== path) {
    readerPath = path;
    reader = new Reader<CountryResponse>(readFileSync(path));
  }
  return reader;
}

export function countryFor(input: { headerValue?: string | null; ip: string; geoDatabase?: string }): string | undefined {
  const h = input.headerValue?.trim().toUpperCase();
  // "XX"/"T1" are Cloudflare's unknown/Tor codes.
  if (h && /^[A-Z]{2}$/.test(h) && h !== 'XX' && h !== 'T1') return h;
  const r = geoReader(input.geoDatabase);
  if (!r) return undefined;
  try {
    const code = r.get(input.ip)?.country?.iso_code;
    return code && /^[A-Z]{2}$/.test(code) ? code : undefined;
  } catch {
    return undefined; // not an IP address the database understands
  }
}
