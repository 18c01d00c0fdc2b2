// GET /v1/certificates?overdue=true and ?unreadable=true: what `fsm-certs check` asks instead of
// listing the whole inventory. Real Redis, real certificates; "now" is the gateway's clock.
import { describe, expect, it } from 'vitest';
import { TOKENS, harnessPerTest, problemOf } from './testing/harness.test-helpers.js';

const ctx = harnessPerTest();

const HOUR = 3_600_000;
const V1 = 'bookstore-v1.bookstore.cluster.local';
const V2 = 'bookstore-v2.bookstore.cluster.local';
const PAYMENTS = 'payments.payments.cluster.local';

interface PageJson {
  items: Array<{ commonName: string; renewAt: string; notAfter: string }>;
  nextCursor: string | null;
  unreadable: string[];
  inventorySize?: number;
}

async function issue(body: Record<string, unknown>): Promise<{ commonName: string; renewAt: string }> {
  const res = await ctx.h.call('POST', '/v1/certificates', { token: TOKENS.admin, body });
  expect(res.status).toBe(201);
  return (await res.json()) as { commonName: string; renewAt: string };
}

/** Follows nextCursor to the end (bounded), collecting every page. */
async function follow(query: string, token: string, limit: number): Promise<{ pages: PageJson[]; names: string[]; unreadable: string[] }> {
  const pages: PageJson[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 50; i++) {
    const res: Response = await ctx.h.call('GET', `/v1/certificates?${query}&limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, { token });
    expect(res.status).toBe(200);
    const page = (await res.json()) as PageJson;
    pages.push(page);
    cursor = page.nextCursor;
    if (cursor === null) break;
  }
  expect(cursor).toBeNull();
  return { pages, names: pages.flatMap((p) => p.items.map((i) => i.commonName)), unreadable: pages.flatMap((p) => p.unreadable) };
}

/** Cuts a stored record's JSON short, as a crash mid-write would. */
async function corrupt(commonName: string): Promise<void> {
  const key = ctx.h.inventory.keys.cert(commonName);
  const json = (await ctx.shared.redis.hget(key, 'record')) ?? '';
  await ctx.shared.redis.hset(key, 'record', json.slice(0, json.length / 2));
}

describe('GET /v1/certificates?overdue=true', () => {
  it('answers only the certificates at or past their renew time, earliest first, page by page, with the inventory size for a * token', async () => {
    const short = [await issue({ commonName: 'a.ns1.cluster.local', validity: '1h' }), await issue({ commonName: 'z.ns1.cluster.local', validity: '1h' })];
    const middle = await issue({ commonName: 'm.ns1.cluster.local', validity: '3h' });
    await issue({ commonName: 'long.ns1.cluster.local', validity: '24h' });
    ctx.h.clock.ms = Date.now() + 3 * HOUR;

    const { pages, names, unreadable } = await follow('overdue=true', TOKENS.reader, 1);
    const expected = [...short, middle].sort((x, y) => Date.parse(x.renewAt) - Date.parse(y.renewAt) || x.commonName.localeCompare(y.commonName)).map((c) => c.commonName);
    expect(names).toEqual(expected);
    expect(unreadable).toEqual([]);
    expect(pages[0]?.inventorySize).toBe(4);

    ctx.h.clock.ms = Date.now() - HOUR;
    expect((await follow('overdue=true', TOKENS.reader, 10)).names).toEqual([]);
  });

  it('shows a name-restricted token only the overdue certificates every name of which it covers, and not the inventory size', async () => {
    await issue({ commonName: V1, sans: [PAYMENTS], validity: '1h' });
    await issue({ commonName: V2, validity: '1h' });
    await issue({ commonName: PAYMENTS, validity: '1h' });
    ctx.h.clock.ms = Date.now() + 2 * HOUR;

    const { pages, names } = await follow('overdue=true', TOKENS.bookstore, 2);
    expect(names).toEqual([V2]);
    expect(pages.every((p) => p.inventorySize === undefined)).toBe(true);
    expect(JSON.stringify(pages)).not.toContain('payments');
    expect((await follow('overdue=true', TOKENS.reader, 2)).names.sort()).toEqual([V1, V2, PAYMENTS].sort());
  });

  it('names an overdue record that does not decode, to a token that covers its common name only', async () => {
    await issue({ commonName: V1, validity: '1h' });
    await issue({ commonName: PAYMENTS, validity: '1h' });
    await corrupt(V1);
    await corrupt(PAYMENTS);
    ctx.h.clock.ms = Date.now() + 2 * HOUR;
    expect((await follow('overdue=true', TOKENS.reader, 10)).unreadable.sort()).toEqual([V1, PAYMENTS].sort());
    expect((await follow('overdue=true', TOKENS.bookstore, 10)).unreadable).toEqual([V1]);
  });

  it('refuses a cursor of the name-ordered list, and overdue=true with unreadable=true, as 400 INVALID_QUERY', async () => {
    for (const query of [`overdue=true&cursor=${V1}`, 'overdue=true&unreadable=true', 'overdue=yes']) {
      const res = await ctx.h.call('GET', `/v1/certificates?${query}`, { token: TOKENS.reader });
      expect(res.status, query).toBe(400);
      expect((await problemOf(res)).code).toBe('INVALID_QUERY');
    }
  });
});

describe('GET /v1/certificates?unreadable=true', () => {
  it('finds records that do not decode anywhere in the inventory, renewing soon or not, and answers only their names', async () => {
    for (let i = 0; i < 5; i++) await issue({ commonName: `s${i}.bookstore.cluster.local`, validity: '24h' });
    await issue({ commonName: PAYMENTS, validity: '24h' });
    await corrupt('s3.bookstore.cluster.local');
    await corrupt(PAYMENTS);

    const all = await follow('unreadable=true', TOKENS.reader, 2);
    expect(all.unreadable.sort()).toEqual([PAYMENTS, 's3.bookstore.cluster.local'].sort());
    expect(all.names).toEqual([]);
    expect(all.pages.length).toBe(3);
    expect((await follow('unreadable=true', TOKENS.bookstore, 2)).unreadable).toEqual(['s3.bookstore.cluster.local']);
  });
});
