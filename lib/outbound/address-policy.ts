import { isIP } from 'node:net';

// Which IP addresses an outbound request to a user-supplied URL may connect to. Pure: the
// resolver and the sender (./resolve-target.ts, ./send.ts) feed it every address a hostname
// resolves to, on every redirect hop. Covers the forms that slip past a string check: the URL
// parser has already turned 2130706433, 0x7f.1 and 127.1 into 127.0.0.1, and IPv6 addresses
// that embed an IPv4 one (::ffff:127.0.0.1, NAT64, 6to4) are judged by the embedded address.

/** Why an address is refused, or null when a request may connect to it. */
export type AddressPolicy = (address: string, port: number) => string | null;

type V4Range = [base: number, bits: number, reason: string];

const v4 = (dotted: string): number => dotted.split('.').reduce((n, part) => n * 256 + Number(part), 0);

// IANA special-purpose registry, minus nothing: none of these is a place a webhook lives.
const V4_RANGES: V4Range[] = [
  [v4('0.0.0.0'), 8, 'unspecified ("this network") address'],
  [v4('10.0.0.0'), 8, 'private address'],
  [v4('100.64.0.0'), 10, 'shared (carrier-grade NAT) address'],
  [v4('127.0.0.0'), 8, 'loopback address'],
  [v4('169.254.0.0'), 16, 'link-local address (cloud metadata lives here)'],
  [v4('172.16.0.0'), 12, 'private address'],
  [v4('192.0.0.0'), 24, 'reserved address'],
  [v4('192.0.2.0'), 24, 'documentation address'],
  [v4('192.88.99.0'), 24, 'reserved address'],
  [v4('192.168.0.0'), 16, 'private address'],
  [v4('198.18.0.0'), 15, 'reserved (benchmarking) address'],
  [v4('198.51.100.0'), 24, 'documentation address'],
  [v4('203.0.113.0'), 24, 'documentation address'],
  [v4('224.0.0.0'), 4, 'multicast address'],
  [v4('240.0.0.0'), 4, 'reserved address'],
];

/** Cloud instance-metadata endpoints: refused even when private targets are allowed. */
const METADATA = new Set(['169.254.169.254', '169.254.170.2', '100.100.100.200', 'fd00:ec2:0:0:0:0:0:254']);

function v4Reason(n: number): string | null {
  for (const [base, bits, reason] of V4_RANGES) {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    if ((n & mask) >>> 0 === base) return reason;
  }
  return null;
}

/** Eight 16-bit groups, or null when `s` is not an IPv6 address. */
function v6Groups(s: string): number[] | null {
  let text = s.split('%')[0]!; // zone id
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (isIP(tail) !== 4) return null;
    const n = v4(tail);
    text = `${text.slice(0, lastColon + 1)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return null;
  return groups.map((g) => parseInt(g, 16));
}

const embeddedV4 = (hi: number, lo: number) => ((hi << 16) >>> 0) + lo;
const dottedV4 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

function v6Reason(g: number[]): string | null {
  const zeroUpTo = (k: number) => g.slice(0, k).every((x) => x === 0);
  if (zeroUpTo(8)) return 'unspecified address';
  if (zeroUpTo(7) && g[7] === 1) return 'loopback address';
  if (zeroUpTo(5) && g[5] === 0xffff) {
    const inner = v4Reason(embeddedV4(g[6]!, g[7]!));
    return inner && `IPv4-mapped ${inner}`;
  }
  if (zeroUpTo(6)) return 'reserved (IPv4-compatible) address';
  if (g[0] === 0x64 && g[1] === 0xff9b) {
    if (g.slice(2, 6).every((x) => x === 0)) {
      const inner = v4Reason(embeddedV4(g[6]!, g[7]!));
      return inner && `NAT64 ${inner}`;
    }
    return 'reserved (local NAT64) address';
  }
  if (g[0] === 0x2002) {
    const inner = v4Reason(embeddedV4(g[1]!, g[2]!));
    return inner && `6to4 ${inner}`;
  }
  if (g[0] === 0x100 && g[1] === 0 && g[2] === 0 && g[3] === 0) return 'reserved (discard) address';
  if (g[0] === 0x2001 && g[1]! < 0x200) return 'reserved (IETF protocol, Teredo) address';
  if (g[0] === 0x2001 && g[1] === 0xdb8) return 'documentation address';
  if ((g[0]! & 0xfe00) === 0xfc00) return 'private (unique local) address';
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local address';
  if ((g[0]! & 0xffc0) === 0xfec0) return 'reserved (site-local) address';
  if ((g[0]! & 0xff00) === 0xff00) return 'multicast address';
  return null;
}

/** The address in one canonical spelling (IPv6 fully expanded), for the metadata list. */
function canonical(address: string): string {
  if (isIP(address) === 4) return address;
  const g = v6Groups(address);
  if (!g) return address;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return dottedV4(embeddedV4(g[6]!, g[7]!));
  return g.map((x) => x.toString(16)).join(':');
}

/** Why `address` is not a public unicast address, or null when it is. */
export function nonPublicReason(address: string): string | null {
  const bare = address.replace(/^\[|\]$/g, '');
  const family = isIP(bare.split('%')[0]!);
  if (family === 4) return v4Reason(v4(bare));
  if (family === 6) {
    const g = v6Groups(bare);
    return g ? v6Reason(g) : 'unparseable address';
  }
  return 'not an IP address';
}

export function isCloudMetadata(address: string): boolean {
  return METADATA.has(canonical(address.replace(/^\[|\]$/g, '')));
}

/**
 * The policy for user-supplied URLs. `allowPrivate` (a self-hosted install whose webhooks live on
 * its own network) lets loopback/private/link-local through, but never the metadata endpoints.
 */
export function outboundPolicy(opts: { allowPrivate: boolean }): AddressPolicy {
  return (address) => {
    if (isCloudMetadata(address)) return 'cloud metadata address';
    if (opts.allowPrivate) return isIP(address.replace(/^\[|\]$/g, '').split('%')[0]!) ? null : 'not an IP address';
    return nonPublicReason(address);
  };
}
