import { describe, expect, it } from 'vitest';
import { nonPublicReason, outboundPolicy } from './address-policy';

// Addresses as dns.lookup or the URL parser hand them over.
const refused: [string, RegExp][] = [
  ['127.0.0.1', /loopback/],
  ['127.255.255.254', /loopback/],
  ['0.0.0.0', /unspecified/],
  ['10.1.2.3', /private/],
  ['172.16.0.1', /private/],
  ['172.31.255.255', /private/],
  ['192.168.1.1', /private/],
  ['100.64.0.1', /carrier-grade/],
  ['100.127.255.255', /carrier-grade/],
  ['169.254.169.254', /link-local/],
  ['169.254.0.1', /link-local/],
  ['224.0.0.1', /multicast/],
  ['239.255.255.250', /multicast/],
  ['255.255.255.255', /reserved/],
  ['192.0.2.10', /documentation/],
  ['198.18.0.1', /benchmarking/],
  ['::', /unspecified/],
  ['::1', /loopback/],
  ['0:0:0:0:0:0:0:1', /loopback/],
  ['::ffff:127.0.0.1', /IPv4-mapped loopback/],
  ['::ffff:7f00:1', /IPv4-mapped loopback/],
  ['::ffff:169.254.169.254', /IPv4-mapped link-local/],
  ['::ffff:10.0.0.1', /IPv4-mapped private/],
  ['::127.0.0.1', /IPv4-compatible/],
  ['64:ff9b::7f00:1', /NAT64 loopback/],
  ['2002:7f00:1::1', /6to4 loopback/],
  ['2001::1', /Teredo/],
  ['2001:db8::1', /documentation/],
  ['fc00::1', /unique local/],
  ['fd12:3456::1', /unique local/],
  ['fe80::1', /link-local/],
  ['fe80::1%eth0', /link-local/],
  ['febf::1', /link-local/],
  ['ff02::1', /multicast/],
  ['[::1]', /loopback/],
  ['localhost', /not an IP/],
];

const allowed = [
  '8.8.8.8',
  '1.1.1.1',
  '93.184.216.34',
  '172.32.0.1',
  '100.128.0.1',
  '169.253.255.255',
  '2606:4700:4700::1111',
  '2a00:1450:4001:80b::200e',
  '::ffff:8.8.8.8',
  '64:ff9b::808:808',
  '2002:808:808::1',
];

describe('nonPublicReason', () => {
  it.each(refused)('refuses %s', (address, reason) => {
    expect(nonPublicReason(address)).toMatch(reason);
  });
  it.each(allowed)('allows the public address %s', (address) => {
    expect(nonPublicReason(address)).toBeNull();
  });
});

describe('outboundPolicy', () => {
  it('with private targets allowed, lets loopback and private addresses through but never cloud metadata', () => {
    const p = outboundPolicy({ allowPrivate: true });
    for (const a of ['127.0.0.1', '::1', '10.0.0.1', '192.168.0.10', 'fd00::5']) expect(p(a, 80)).toBeNull();
    for (const a of ['169.254.169.254', '::ffff:169.254.169.254', 'fd00:ec2::254', '100.100.100.200'])
      expect(p(a, 80)).toMatch(/metadata/);
  });
  it('by default refuses everything that is not public', () => {
    const p = outboundPolicy({ allowPrivate: false });
    for (const [a] of refused) expect(p(a, 443)).not.toBeNull();
    for (const a of allowed) expect(p(a, 443)).toBeNull();
  });
});
