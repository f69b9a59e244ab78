// Writes a tiny MaxMind DB (MMDB v2) file for tests: IPv4 networks → { country: { iso_code } }.
// MaxMind's own test databases cannot be downloaded here, so the fixture is generated from the
// published format: a binary search tree of 24-bit records, 16 zero bytes, the data section,
// then "\xAB\xCD\xEFMaxMind.com" and a metadata map.

type Value = string | number | bigint | Record<string, unknown> | unknown[];

function ctrl(type: number, size: number): Buffer {
  if (size >= 29) throw new Error('fixture writer supports sizes < 29 only');
  return type <= 7 ? Buffer.from([(type << 5) | size]) : Buffer.from([size, type - 7]);
}

function uint(type: number, n: number | bigint): Buffer {
  let v = BigInt(n);
  const bytes: number[] = [];
  while (v > 0n) {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  }
  return Buffer.concat([ctrl(type, bytes.length), Buffer.from(bytes)]);
}

function encode(v: Value): Buffer {
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    return Buffer.concat([ctrl(2, b.length), b]);
  }
  if (typeof v === 'bigint') return uint(9, v);
  if (typeof v === 'number') return uint(v > 0xffff ? 6 : 5, v);
  if (Array.isArray(v)) return Buffer.concat([ctrl(11, v.length), ...v.map((x) => encode(x as Value))]);
  const entries = Object.entries(v);
  return Buffer.concat([ctrl(7, entries.length), ...entries.flatMap(([k, x]) => [encode(k), encode(x as Value)])]);
}

interface Node {
  children: [Node | number | null, Node | number | null];
}

export function writeCountryMmdb(networks: { cidr: string; country: string }[]): Buffer {
  const data: Buffer[] = [];
  const offsets = new Map<string, number>();
  let dataSize = 0;
  const dataFor = (country: string) => {
    if (!offsets.has(country)) {
      const b = encode({ country: { iso_code: country, names: { en: country } } });
      offsets.set(country, dataSize);
      data.push(b);
      dataSize += b.length;
    }
    return offsets.get(country)!;
  };
  const root: Node = { children: [null, null] };
  for (const n of networks) {
    const [ip, len] = n.cidr.split('/') as [string, string];
    const bits = ip.split('.').reduce((acc, o) => (acc << 8) + Number(o), 0) >>> 0;
    let node = root;
    const prefix = Number(len);
    for (let i = 0; i < prefix; i++) {
      const bit = (bits >>> (31 - i)) & 1;
      if (i === prefix - 1) {
        node.children[bit] = dataFor(n.country);
      } else {
        let next = node.children[bit];
        if (typeof next !== 'object' || next === null) node.children[bit] = next = { children: [null, null] };
        node = next;
      }
    }
  }
  const nodes: Node[] = [];
  const index = new Map<Node, number>();
  const visit = (n: Node) => {
    index.set(n, nodes.length);
    nodes.push(n);
    for (const c of n.children) if (c && typeof c === 'object') visit(c);
  };
  visit(root);
  const nodeCount = nodes.length;
  const tree = Buffer.alloc(nodeCount * 6);
  nodes.forEach((n, i) => {
    n.children.forEach((c, side) => {
      const value = c === null ? nodeCount : typeof c === 'number' ? nodeCount + 16 + c : index.get(c)!;
      tree.writeUIntBE(value, i * 6 + side * 3, 3);
    });
  });
  const metadata = encode({
    node_count: nodeCount,
    record_size: 24,
    ip_version: 4,
    database_type: 'Eddy-Test-Country',
    languages: ['en'],
    binary_format_major_version: 2,
    binary_format_minor_version: 0,
    build_epoch: BigInt(1_700_000_000),
    description: { en: 'Eddy test fixture' },
  });
  return Buffer.concat([
    tree,
    Buffer.alloc(16),
    ...data,
    Buffer.from([0xab, 0xcd, 0xef]),
    Buffer.from('MaxMind.com'),
    metadata,
  ]);
}
