import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeCountryMmdb } from '@/tests/helpers/mmdb';
import { countryFor } from './country';

describe('country enrichment', () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'eddy-geo-')), 'country.mmdb');
  writeFileSync(file, writeCountryMmdb([
    { cidr: '81.2.69.0/24', country: 'GB' },
    { cidr: '89.160.20.0/22', country: 'SE' },
    { cidr: '2.125.160.0/20', country: 'DE' },
  ]));

  it('looks the IP up in a MaxMind-format database', () => {
    expect(countryFor({ ip: '81.2.69.142', geoDatabase: file })).toBe('GB');
    expect(countryFor({ ip: '89.160.21.7', geoDatabase: file })).toBe('SE');
    expect(countryFor({ ip: '2.125.170.1', geoDatabase: file })).toBe('DE');
    expect(countryFor({ ip: '8.8.8.8', geoDatabase: file })).toBeUndefined();
    expect(countryFor({ ip: 'not-an-ip', geoDatabase: file })).toBeUndefined();
  });

  it('prefers a trusted CDN header, ignoring its unknown/Tor codes', () => {
    expect(countryFor({ headerValue: 'fr', ip: '81.2.69.142', geoDatabase: file })).toBe('FR');
    expect(countryFor({ headerValue: 'XX', ip: '81.2.69.142', geoDatabase: file })).toBe('GB');
    expect(countryFor({ headerValue: 'T1', ip: '1.1.1.1' })).toBeUndefined();
  });

  it('knows nothing without a header or a database', () => {
    expect(countryFor({ ip: '81.2.69.142' })).toBeUndefined();
  });
});
