import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KNOWN_ADDRESSES } from '../helpers/known-addresses';
import { startStack, type Stack } from '../helpers/stack';

// Countries out of the box: with no country setting at all, the real collect endpoint (the edge
// fast path and the Next.js route, whose bundle must still find the database in node_modules)
// puts the embedded database's country on each event; a trusted CDN header still wins.

// Node's fetch says "node" as its user agent, which the bot filter drops (with a 202).
const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

describe.each(['edge', 'next'] as const)('countries with no GeoIP setting, collect via %s', (via) => {
  let stack: Stack;
  let pool: pg.Pool;

  beforeAll(async () => {
    stack = await startStack({
      bus: 'embedded',
      worker: false,
      label: `countries-${via}`,
      env: { COLLECT_VIA: via, TRUSTED_PROXY_HEADER: 'x-forwarded-for', TRUSTED_COUNTRY_HEADER: 'cf-ipcountry' },
    });
    pool = new pg.Pool({ connectionString: stack.db.url });
    pool.on('error', () => undefined);
  });
  afterAll(async () => {
    await pool?.end();
    await stack?.stop();
  });

  async function countriesOf(requests: { ip: string; header?: string }[]): Promise<(string | null)[]> {
    const ids = requests.map(() => randomUUID());
    for (const [i, r] of requests.entries()) {
      const res = await fetch(`${stack.url}/api/collect`, {
        method: 'POST',
        body: JSON.stringify({ s: stack.site.key, i: ids[i], u: 'http://127.0.0.1/' }),
        headers: {
          'content-type': 'text/plain',
          'user-agent': CHROME,
          'x-forwarded-for': r.ip,
          ...(r.header ? { 'cf-ipcountry': r.header } : {}),
        },
      });
      expect(res.status, r.ip).toBe(202);
    }
    const rows = await pool.query<{ id: string; country: string | null }>(
      `SELECT convert_from(value, 'UTF8')::jsonb->>'eventId' AS id, convert_from(value, 'UTF8')::jsonb->>'country' AS country
         FROM bus_messages WHERE topic = $1 AND convert_from(value, 'UTF8')::jsonb->>'eventId' = ANY($2)`,
      [`${stack.namespace}events`, ids],
    );
    const byId = new Map(rows.rows.map((row) => [row.id, row.country]));
    expect(byId.size).toBe(ids.length);
    return ids.map((id) => byId.get(id) ?? null);
  }

  it('knows the country of well-known addresses, IPv4 and IPv6', async () => {
    expect(await countriesOf(KNOWN_ADDRESSES.map(([ip]) => ({ ip })))).toEqual(
      KNOWN_ADDRESSES.map(([, country]) => country),
    );
  });

  it('has no country for a private address (a proxy in front that is not trusted, a container network)', async () => {
    expect(await countriesOf([{ ip: '192.168.1.20' }, { ip: '172.18.0.3' }, { ip: '10.0.0.7' }])).toEqual([
      null,
      null,
      null,
    ]);
  });

  it("takes the trusted CDN header's country before the embedded database", async () => {
    expect(
      await countriesOf([
        { ip: '8.8.8.8', header: 'DE' },
        { ip: '8.8.8.8', header: 'XX' },
      ]),
    ).toEqual(['DE', 'US']);
  });
});
