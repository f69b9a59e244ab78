import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KNOWN_ADDRESSES } from '@/tests/helpers/known-addresses';
import { writeCountryMmdb } from '@/tests/helpers/mmdb';
import { countryFor, embeddedCountryDatabase } from './country';

describe('country enrichment', () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'eddy-geo-')), 'country.mmdb');
  writeFileSync(
    file,
    writeCountryMmdb([
      { cidr: '81.2.69.0/24', country: 'GB' },
      { cidr: '89.160.20.0/22', country: 'SE' },
      { cidr: '2.125.160.0/20', country: 'DE' },
    ]),
  );

  it('looks the IP up in an operator-supplied MaxMind-format database', () => {
    expect(countryFor({ ip: '81.2.69.142', geoDatabase: file })).toBe('GB');
    expect(countryFor({ ip: '89.160.21.7', geoDatabase: file })).toBe('SE');
    expect(countryFor({ ip: '2.125.170.1', geoDatabase: file })).toBe('DE');
    expect(countryFor({ ip: 'not-an-ip', geoDatabase: file })).toBeUndefined();
  });

  it("the operator's database replaces the embedded one: what it does not know stays unknown", () => {
    expect(countryFor({ ip: '8.8.8.8' })).toBe('US');
    expect(countryFor({ ip: '8.8.8.8', geoDatabase: file })).toBeUndefined();
  });

  it('prefers a trusted CDN header, ignoring its unknown/Tor codes', () => {
    expect(countryFor({ headerValue: 'fr', ip: '81.2.69.142', geoDatabase: file })).toBe('FR');
    expect(countryFor({ headerValue: 'XX', ip: '81.2.69.142', geoDatabase: file })).toBe('GB');
    expect(countryFor({ headerValue: 'fr', ip: '8.8.8.8' })).toBe('FR');
    expect(countryFor({ headerValue: 'T1', ip: '8.8.8.8' })).toBe('US');
  });

  it('knows countries out of the box from the embedded database', () => {
    expect(embeddedCountryDatabase()).toMatch(
      /node_modules\/@ip-location-db\/geo-whois-asn-country-mmdb\/geo-whois-asn-country\.mmdb$/,
    );
    for (const [ip, country] of KNOWN_ADDRESSES) expect(countryFor({ ip }), ip).toBe(country);
  });

  it('has no country for private, loopback and documentation addresses, or non-addresses', () => {
    // 172.16/12, 192.168/16, 198.51.100/24, 203.0.113/24 and 2001:db8::/32 are in the embedded data (as AU, JP).
    const special = [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.5',
      '192.168.0.1',
      '192.0.2.1',
      '198.51.100.7',
      '203.0.113.9',
      '100.64.0.1',
      '::1',
      'fd00::1',
      'fe80::1',
      '2001:db8::1',
      '::ffff:192.168.1.1',
    ];
    for (const ip of [...special, 'not-an-ip', '']) expect(countryFor({ ip }), ip).toBeUndefined();
  });

  it('reads an IPv4-mapped IPv6 address as the IPv4 address', () => {
    expect(countryFor({ ip: '::ffff:8.8.8.8' })).toBe('US');
    expect(countryFor({ ip: '::FFFF:193.0.6.139' })).toBe('NL');
  });
});
