import type { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { QueueError } from '../errors.js';
import { certificateRecord } from '../test-fixtures.test-helpers.js';
import { usePrivateRedis } from '../testing.test-helpers.js';
import { Inventory } from './inventory.js';
import { InventoryHealth, type OverduePage } from './overdue.js';

const db = usePrivateRedis({ flush: 'each' });
let redis: Redis;
let inventory: Inventory;
let health: InventoryHealth;
const PREFIX = '{overdue-test}';
const NOW = Date.parse('2030-05-01T00:00:00Z');
const MIN = 60_000;

beforeAll(() => {
  redis = db.redis;
  inventory = new Inventory(redis, { prefix: PREFIX });
  health = new InventoryHealth(redis, { prefix: PREFIX });
});

/** A record renewing at NOW + offsetMs (expiring an hour after that). */
async function store(commonName: string, renewOffsetMs: number): Promise<void> {
  const renewAt = NOW + renewOffsetMs;
  await inventory.put(
    certificateRecord({ commonName, dnsNames: [commonName], notBefore: new Date(renewAt - 3_600_000).toISOString(), renewAt: new Date(renewAt).toISOString(), notAfter: new Date(renewAt + 3_600_000).toISOString() }),
  );
}

async function allOverdue(limit: number, between?: (page: OverduePage) => Promise<void>): Promise<{ names: string[]; unreadable: string[]; pages: number }> {
  const names: string[] = [];
  const unreadable: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await health.overdue({ atMs: NOW, limit, ...(cursor === undefined ? {} : { cursor }) });
    pages += 1;
    names.push(...page.items.map((r) => r.commonName));
    unreadable.push(...page.unreadable.map((e) => e.commonName));
    cursor = page.nextCursor;
    await between?.(page);
  } while (cursor !== undefined && pages < 100);
  return { names, unreadable, pages };
}

describe('InventoryHealth.overdue', () => {
  it('answers exactly the certificates at or past their renew time, earliest first, in pages', async () => {
    for (let i = 0; i < 7; i++) await store(`late-${i}.ns.cluster.local`, -(i + 1) * MIN);
    await store('due-now.ns.cluster.local', 0);
    for (let i = 0; i < 5; i++) await store(`fine-${i}.ns.cluster.local`, (i + 1) * MIN);

    const { names, pages } = await allOverdue(3);
    expect(names).toEqual([...Array.from({ length: 7 }, (_, i) => `late-${6 - i}.ns.cluster.local`), 'due-now.ns.cluster.local']);
    expect(pages).toBe(3);
    expect((await health.overdue({ atMs: NOW - 10 * MIN, limit: 10 })).items).toEqual([]);
  });

  it('pages through certificates sharing one renew time without repeating or skipping any', async () => {
    const names = Array.from({ length: 25 }, (_, i) => `same-${String(i).padStart(2, '0')}.ns.cluster.local`);
    for (const name of names) await store(name, -MIN);
    await store('earlier.ns.cluster.local', -2 * MIN);
    expect((await allOverdue(4)).names).toEqual(['earlier.ns.cluster.local', ...names]);
  });

  it('does not skip a certificate when the one a cursor points at is renewed before the next page', async () => {
    const names = Array.from({ length: 6 }, (_, i) => `n${i}.ns.cluster.local`);
    for (const name of names) await store(name, -MIN);
    const seen = await allOverdue(2, async (page) => {
      // The rotation-worker renews the page just read: its entries leave the overdue range.
      for (const record of page.items) await store(record.commonName, 60 * MIN);
    });
    expect(seen.names).toEqual(names);
  });

  it('reports an overdue record that does not decode by name, and leaves it out of the items', async () => {
    await store('ok.ns.cluster.local', -MIN);
    await store('broken.ns.cluster.local', -2 * MIN);
    const bytes = (await redis.hgetBuffer(inventory.keys.cert('broken.ns.cluster.local'), 'record')) ?? Buffer.alloc(0);
    await redis.hset(inventory.keys.cert('broken.ns.cluster.local'), 'record', bytes.subarray(0, 40));
    const page = await health.overdue({ atMs: NOW, limit: 10 });
    expect(page.items.map((r) => r.commonName)).toEqual(['ok.ns.cluster.local']);
    expect(page.unreadable.map((e) => e.commonName)).toEqual(['broken.ns.cluster.local']);
  });

  it('refuses a cursor it did not hand out, and a limit outside 1..1000', async () => {
    await expect(health.overdue({ atMs: NOW, limit: 10, cursor: 'some.name' })).rejects.toBeInstanceOf(QueueError);
    await expect(health.overdue({ atMs: NOW, limit: 1001 })).rejects.toThrow(/limit must be an integer 1\.\.1000/);
  });
});

describe('InventoryHealth.unreadable', () => {
  it('finds the records that do not decode anywhere in the inventory, whatever their renew time, in pages', async () => {
    for (let i = 0; i < 10; i++) await store(`c${i}.ns.cluster.local`, (i + 1) * 60 * MIN);
    for (const name of ['c3.ns.cluster.local', 'c8.ns.cluster.local']) {
      await redis.hset(inventory.keys.cert(name), 'record', '{"version":1,"commonName":');
    }
    const names: string[] = [];
    let cursor: string | undefined;
    let scanned = 0;
    for (let page = 0; page < 20; page++) {
      const result = await health.unreadable({ limit: 3, ...(cursor === undefined ? {} : { cursor }) });
      names.push(...result.unreadable.map((e) => e.commonName));
      scanned += result.scanned;
      cursor = result.nextCursor;
      if (cursor === undefined) break;
    }
    expect(cursor).toBeUndefined();
    expect(scanned).toBe(10);
    expect(names).toEqual(['c3.ns.cluster.local', 'c8.ns.cluster.local']);
  });

  it('still finds a record damaged after a scan had found it readable, and one whose CA entry went missing', async () => {
    for (let i = 0; i < 6; i++) await store(`v${i}.ns.cluster.local`, 60 * MIN);
    expect(await scanAll(4)).toEqual([]);
    // The first scan remembered each record as readable; only changed bytes are decoded again.
    const verified = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => redis.hget(inventory.keys.cert(`v${i}.ns.cluster.local`), 'v')));
    expect(verified.every((v) => typeof v === 'string' && /^[0-9a-f]{12}$/.test(v))).toBe(true);
    expect(await scanAll(4)).toEqual([]);

    const key = inventory.keys.cert('v2.ns.cluster.local');
    const bytes = (await redis.hgetBuffer(key, 'record')) ?? Buffer.alloc(0);
    // Damaged in place: the same serial, a few bytes short.
    await redis.hset(key, 'record', bytes.subarray(0, -3));
    expect(await scanAll(4)).toEqual(['v2.ns.cluster.local']);
    // Damaged without changing its length: one field's tag overwritten.
    const other = inventory.keys.cert('v4.ns.cluster.local');
    const same = Buffer.from((await redis.hgetBuffer(other, 'record')) ?? Buffer.alloc(0));
    same[1] = 0x7f;
    await redis.hset(other, 'record', same);
    expect(await scanAll(4)).toEqual(['v2.ns.cluster.local', 'v4.ns.cluster.local']);

    const ca = (await redis.hget(inventory.keys.cert('v0.ns.cluster.local'), 'ca')) ?? '';
    await redis.del(inventory.keys.caEntry(ca));
    const fresh = new InventoryHealth(redis, { prefix: PREFIX });
    expect(await scanAllWith(fresh, 4)).toEqual(['v0.ns.cluster.local', 'v1.ns.cluster.local', 'v2.ns.cluster.local', 'v3.ns.cluster.local', 'v4.ns.cluster.local', 'v5.ns.cluster.local']);
  });

  it('never trusts the digest an earlier version kept (field verified), and drops it once the record decoded', async () => {
    await store('old.ns.cluster.local', 60 * MIN);
    const key = inventory.keys.cert('old.ns.cluster.local');
    const bytes = (await redis.hgetBuffer(key, 'record')) ?? Buffer.alloc(0);
    // Damaged, with a digest under the old field: the scan decodes it all the same.
    await redis.hset(key, 'record', bytes.subarray(0, 25), 'verified', '0123456789abcdef');
    expect(await scanAll(10)).toEqual(['old.ns.cluster.local']);
    await redis.hset(key, 'record', bytes);
    expect(await scanAll(10)).toEqual([]);
    expect(await redis.hget(key, 'verified')).toBeNull();
    expect(await redis.hget(key, 'v')).toMatch(/^[0-9a-f]{12}$/);
  });

  it('does not vouch for a record rewritten between its read and the remembering of its digest', async () => {
    await store('w.ns.cluster.local', 60 * MIN);
    const key = inventory.keys.cert('w.ns.cluster.local');
    const bytes = (await redis.hgetBuffer(key, 'record')) ?? Buffer.alloc(0);
    // As if the scan had read good bytes, and a damaged write landed before it remembered them.
    await redis.hset(key, 'v', '0123456789ab');
    await redis.hset(key, 'record', bytes.subarray(0, 30));
    expect(await scanAll(10)).toEqual(['w.ns.cluster.local']);
    expect(await redis.hget(key, 'v')).toBe('0123456789ab');
  });
});

async function scanAll(limit: number): Promise<string[]> {
  return scanAllWith(health, limit);
}

async function scanAllWith(reader: InventoryHealth, limit: number): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const result = await reader.unreadable({ limit, ...(cursor === undefined ? {} : { cursor }) });
    names.push(...result.unreadable.map((e) => e.commonName));
    cursor = result.nextCursor;
    if (cursor === undefined) break;
  }
  return names;
}
