// Addresses whose country has been the same in every country database for years: the regional
// registries' own networks, a Japanese host, and Google Public DNS (anycast, but listed as US
// everywhere). Not 1.1.1.1, whose listing has moved between countries.
/** What the embedded country database must say for them (lib/collect/enrich/country.ts). */
export const KNOWN_ADDRESSES: [ip: string, country: string][] = [
  ['8.8.8.8', 'US'], // Google Public DNS, registered in the US
  ['193.0.6.139', 'NL'], // RIPE NCC, Amsterdam
  ['200.160.2.3', 'BR'], // NIC.br, São Paulo
  ['202.12.29.20', 'AU'], // APNIC, Brisbane
  ['133.242.0.3', 'JP'], // SAKURA Internet, Osaka
  ['2001:67c:2e8:22::c100:68b', 'NL'], // ripe.net over IPv6
  ['2001:4860:4860::8888', 'US'], // Google Public DNS over IPv6
];
