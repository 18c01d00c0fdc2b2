// Stored records the gateway cannot decode, written straight into a real Redis as corruption or
// another version would leave them: lists keep working for everyone, the one name says so.
import { describe, expect, it } from 'vitest';
import type { GatewayLogger } from './deps.js';
import { TOKENS, harnessPerTest, problemOf } from './testing/harness.test-helpers.js';

const ctx = harnessPerTest();

interface ListJson {
  items: Array<{ commonName: string; certificate: string }>;
  nextCursor: string | null;
  unreadable: string[];
}

async function issue(commonName: string, body: Record<string, unknown> = {}, token: string = TOKENS.bookstore): Promise<{ serialNumber: string; certificate: string }> {
  const res = await ctx.h.call('POST', '/v1/certificates', { token, body: { commonName, ...body } });
  expect(res.status).toBe(201);
  return (await res.json()) as { serialNumber: string; certificate: string };
}

/** Writes a hash the way the inventory lays it out, with a record JSON of our choosing. */
async function writeRaw(commonName: string, recordJson: string, serialNumber = 'ab12'): Promise<void> {
  const { keys } = ctx.h.inventory;
  await ctx.shared.redis.hset(keys.cert(commonName), 'record', recordJson, 'serial', serialNumber);
  await ctx.shared.redis.zadd(keys.names, 0, commonName);
  await ctx.shared.redis.zadd(keys.renewIndex, Date.now() + 3_600_000, commonName);
}

/** A record as a newer version might write it: a key algorithm this version does not know. */
async function writeFromNewerVersion(commonName: string): Promise<void> {
  await issue(commonName);
  const record = await ctx.h.inventory.get(commonName);
  // Stored in the full format (every version reads its layout), with a value this one does not know.
  await ctx.shared.redis.hset(ctx.h.inventory.keys.cert(commonName), 'record', JSON.stringify({ ...record, keyAlgorithm: 'ml-dsa-65' }));
}

async function list(query = ''): Promise<ListJson> {
  const res = await ctx.h.call('GET', `/v1/certificates${query}`, { token: TOKENS.reader });
  expect(res.status).toBe(200);
  return (await res.json()) as ListJson;
}

async function undecodableCount(): Promise<number> {
  const text = await (await ctx.h.call('GET', '/metrics')).text();
  const match = /^fsm_certs_inventory_undecodable_records_total (\d+)$/m.exec(text);
  if (match === null) throw new Error('fsm_certs_inventory_undecodable_records_total is not exported');
  return Number(match[1]);
}

describe('stored records that do not decode', () => {
  it('are left out of GET /v1/certificates, which still answers every reader and names them', async () => {
    await issue('a.bookstore.cluster.local');
    await writeRaw('b.bookstore.cluster.local', '{"commonName":"b.bookstore.cluster.local","serialNumber":"ab');
    await writeFromNewerVersion('c.bookstore.cluster.local');
    await issue('d.bookstore.cluster.local');

    const page = await list();
    expect(page.items.map((i) => i.commonName)).toEqual(['a.bookstore.cluster.local', 'd.bookstore.cluster.local']);
    expect(page.unreadable).toEqual(['b.bookstore.cluster.local', 'c.bookstore.cluster.local']);

    // Page by page, too: a page holding only an unreadable record still leads to the next one.
    const seen: string[] = [];
    const skipped: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const next: ListJson = await list(cursor === null ? '?limit=1' : `?limit=1&cursor=${encodeURIComponent(cursor)}`);
      seen.push(...next.items.map((i) => i.commonName));
      skipped.push(...next.unreadable);
      cursor = next.nextCursor;
      if (cursor === null) break;
    }
    expect(seen).toEqual(['a.bookstore.cluster.local', 'd.bookstore.cluster.local']);
    expect(skipped).toEqual(['b.bookstore.cluster.local', 'c.bookstore.cluster.local']);
  });

  it('are logged once per record however often they are listed, and every encounter is counted on /metrics', async () => {
    const errors: Array<{ obj: object; msg?: string }> = [];
    const logger: GatewayLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (obj, msg) => errors.push({ obj, ...(msg === undefined ? {} : { msg }) }) };
    await ctx.restart({ logger });
    await writeRaw('broken.bookstore.cluster.local', 'not json at all', 'cafe01');
    expect(await undecodableCount()).toBe(0);
    for (let i = 0; i < 3; i++) expect((await list()).unreadable).toEqual(['broken.bookstore.cluster.local']);
    expect((await ctx.h.call('GET', '/v1/certificates/broken.bookstore.cluster.local', { token: TOKENS.reader })).status).toBe(500);

    expect(await undecodableCount()).toBe(4);
    const logged = errors.filter((e) => JSON.stringify(e.obj).includes('broken.bookstore.cluster.local'));
    expect(logged).toHaveLength(1);
    expect(logged[0]?.obj).toMatchObject({ commonName: 'broken.bookstore.cluster.local', serialNumber: 'cafe01', code: 'RECORD_UNREADABLE' });

    // Re-issued into another unreadable record (another serial): that is news, logged again.
    await writeRaw('broken.bookstore.cluster.local', 'still not json', 'cafe02');
    await list();
    expect(errors.filter((e) => JSON.stringify(e.obj).includes('cafe02'))).toHaveLength(1);
  });

  it('make GET and rotate of that name answer 500 RECORD_UNREADABLE, telling the operator to delete it and issue again', async () => {
    await writeFromNewerVersion('newer.bookstore.cluster.local');
    const get = await ctx.h.call('GET', '/v1/certificates/newer.bookstore.cluster.local', { token: TOKENS.reader });
    expect(get.status).toBe(500);
    const problem = await problemOf(get);
    expect(problem.code).toBe('RECORD_UNREADABLE');
    expect(problem.detail).toContain('keyAlgorithm');
    expect(problem.detail).toContain('DELETE /v1/certificates/newer.bookstore.cluster.local');
    expect(problem.detail).toContain('fsm-certs cert release newer.bookstore.cluster.local');

    const batches = ctx.h.issueClient.batches.length;
    const rotate = await ctx.h.call('POST', '/v1/certificates/newer.bookstore.cluster.local/rotate', { token: TOKENS.bookstore });
    expect(rotate.status).toBe(500);
    expect((await problemOf(rotate)).code).toBe('RECORD_UNREADABLE');
    expect(ctx.h.issueClient.batches.length).toBe(batches);
  });

  it('can be deleted (announced as released with their stored serial), after which the name is issued afresh', async () => {
    await writeRaw('gone.bookstore.cluster.local', '[]', 'beef');
    const controller = new AbortController();
    const released = (async () => {
      for await (const e of ctx.h.events.subscribe({ fromId: '0', signal: controller.signal })) if (e.event.kind === 'released') return e.event;
      return undefined;
    })();
    // Its names cannot be read, so a name-restricted token may not release it; an operator may.
    const refused = await ctx.h.call('DELETE', '/v1/certificates/gone.bookstore.cluster.local', { token: TOKENS.bookstore });
    expect(refused.status).toBe(403);
    expect((await problemOf(refused)).code).toBe('NAME_NOT_ALLOWED');
    const res = await ctx.h.call('DELETE', '/v1/certificates/gone.bookstore.cluster.local', { token: TOKENS.admin });
    expect(res.status).toBe(204);
    expect(await released).toMatchObject({ kind: 'released', commonName: 'gone.bookstore.cluster.local', serialNumber: 'beef' });
    controller.abort();
    expect((await list()).unreadable).toEqual([]);
    const fresh = await issue('gone.bookstore.cluster.local');
    const got = await ctx.h.call('GET', '/v1/certificates/gone.bookstore.cluster.local', { token: TOKENS.reader });
    expect(((await got.json()) as { serialNumber: string }).serialNumber).toBe(fresh.serialNumber);
  });
});

describe('certificates longer than 64 KiB of PEM', () => {
  it('are issued, read back and listed unchanged', async () => {
    // 40 URI SANs of 1.5 kB: a legal request under the 64 kB body limit, a leaf of ~80 kB PEM.
    const sans = Array.from({ length: 40 }, (_, i) => `https://long.example/${String(i).padStart(2, '0')}/${'p'.repeat(1_480)}`);
    const issued = await issue('long.example.com', { sans }, TOKENS.anyName);
    expect(issued.certificate.length).toBeGreaterThan(65_536);

    const got = await ctx.h.call('GET', '/v1/certificates/long.example.com', { token: TOKENS.reader });
    expect(got.status).toBe(200);
    expect(((await got.json()) as { certificate: string }).certificate).toBe(issued.certificate);
    const page = await list();
    expect(page.items.map((i) => i.certificate)).toEqual([issued.certificate]);
    expect(page.unreadable).toEqual([]);
  });
});
