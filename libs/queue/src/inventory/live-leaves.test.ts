// The live-leaf index must count exactly what reading every record counts: the root rotation's
// status (and the gateway's metrics) show it, and a wrong count is a wrong answer to "may the old
// root go?". Every way a record comes and goes is checked against a real Redis.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CertificateRecord } from '../contracts/certificate-record.js';
import type { LeafFacts } from './record-codec.js';
import { certificateRecord } from '../test-fixtures.test-helpers.js';
import { usePrivateRedis } from '../testing.test-helpers.js';
import { Inventory } from './inventory.js';
import { IssueBatchStore, type StoreWrite } from './issue-batch-store.js';
import { LiveLeaves } from './live-leaves.js';

const db = usePrivateRedis({ flush: 'each' });
const PREFIX = '{live-test}';
let inventory: Inventory;
let store: IssueBatchStore;

beforeAll(() => {
  inventory = new Inventory(db.redis, { prefix: PREFIX });
  store = new IssueBatchStore(db.redis, { prefix: PREFIX });
});

const OLD = 'a0'.repeat(32);
const NEW = 'b1'.repeat(32);
const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const HOUR = 3600_000;

function leaf(commonName: string, issuerId: string, notAfterMs: number): CertificateRecord {
  return certificateRecord({ commonName, issuerId, notBefore: new Date(T0 - HOUR).toISOString(), notAfter: new Date(notAfterMs).toISOString(), renewAt: new Date(T0).toISOString() });
}

function storeWrite(record: CertificateRecord, expectSerial: string | null): StoreWrite {
  const at = new Date(T0).toISOString();
  return {
    kind: 'store',
    record,
    expectSerial,
    requestIds: [randomUUID()],
    event:
      expectSerial === null
        ? { version: 1, kind: 'issued', at, commonName: record.commonName, serialNumber: record.serialNumber, notAfter: record.notAfter }
        : { version: 1, kind: 'rotated', at, commonName: record.commonName, serialNumber: record.serialNumber, previousSerialNumber: expectSerial, notAfter: record.notAfter, reason: 'request' },
  };
}

/** What reading every record counts (the rotation's scan before the index). */
async function scanned(nowMs: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let cursor: string | undefined;
  for (let pages = 0; pages < 100; pages += 1) {
    const page = await inventory.leaves({ limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
    for (const facts of page.items) if (facts.notAfterMs > nowMs) counts.set(facts.issuerId, (counts.get(facts.issuerId) ?? 0) + 1);
    if (page.nextCursor === undefined) break;
    cursor = page.nextCursor;
  }
  return counts;
}

async function counted(nowMs: number): Promise<Map<string, number>> {
  return new Map((await inventory.liveLeafCounts(nowMs)).byIssuer);
}

describe('live-leaf index', () => {
  it('counts leaves stored by put() per issuer, and moves a replaced leaf to its new issuer', async () => {
    await inventory.put(leaf('a.x', OLD, T0 + HOUR));
    await inventory.put(leaf('b.x', OLD, T0 + HOUR));
    await inventory.put(leaf('c.x', NEW, T0 + HOUR));
    await inventory.reindexLiveLeaves();
    expect(await counted(T0)).toEqual(new Map([[OLD, 2], [NEW, 1]]));
    await inventory.put(leaf('a.x', NEW, T0 + 2 * HOUR));
    expect(await counted(T0)).toEqual(new Map([[OLD, 1], [NEW, 2]]));
    expect(await counted(T0)).toEqual(await scanned(T0));
  });

  it('counts leaves stored by the issue batch commit, and not a write refused by its compare-and-set', async () => {
    const a = leaf('a.x', OLD, T0 + HOUR);
    const b = leaf('b.x', OLD, T0 + HOUR);
    expect(await store.commit([storeWrite(a, null), storeWrite(b, null)])).toEqual([true, true]);
    // A replacement of a from the new root, and a stale writer's attempt on b that must change nothing.
    expect(await store.commit([storeWrite(leaf('a.x', NEW, T0 + HOUR), a.serialNumber), storeWrite(leaf('b.x', NEW, T0 + HOUR), 'ffff')])).toEqual([true, false]);
    expect(await counted(T0)).toEqual(new Map([[OLD, 1], [NEW, 1]]));
    expect(await counted(T0)).toEqual(await scanned(T0));
  });

  it('stops counting a leaf at its notAfter, with no write in between', async () => {
    const notAfter = T0 + HOUR;
    await inventory.put(leaf('a.x', OLD, notAfter));
    await inventory.put(leaf('b.x', OLD, notAfter + 1000));
    expect((await counted(notAfter - 1)).get(OLD)).toBe(2);
    // Live means notAfter > now, as the scan has it.
    expect((await counted(notAfter)).get(OLD)).toBe(1);
    expect(await counted(notAfter)).toEqual(await scanned(notAfter));
    expect((await counted(notAfter + 999)).get(OLD)).toBe(1);
    expect((await counted(notAfter + 1000)).get(OLD)).toBeUndefined();
  });

  it('stops counting a deleted leaf', async () => {
    await inventory.put(leaf('a.x', OLD, T0 + HOUR));
    const b = leaf('b.x', OLD, T0 + HOUR);
    await inventory.put(b);
    await inventory.delete('a.x');
    expect((await counted(T0)).get(OLD)).toBe(1);
    await inventory.deleteSerial('b.x', b.serialNumber);
    expect(await counted(T0)).toEqual(new Map());
  });

  it('agrees with a scan of every record after a mix of stores, replacements, deletions and expiries', async () => {
    const issuers = [OLD, NEW, 'c2'.repeat(32)];
    // A fixed pseudo-random sequence: the same operations on every run.
    let seed = 7;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      // The high bits: the low ones of this generator repeat with a short period.
      return Math.floor(seed / 2 ** 16) % n;
    };
    const serials = new Map<string, string>();
    for (let step = 0; step < 300; step += 1) {
      const name = `n${next(40)}.x`;
      const op = next(10);
      if (op < 2) {
        await inventory.delete(name);
        serials.delete(name);
      } else {
        const record = leaf(name, issuers[next(3)] ?? OLD, T0 + (next(7) - 2) * HOUR + next(1000) * 1000);
        const expect = serials.get(name) ?? null;
        const [stored] = op < 6 ? await store.commit([storeWrite(record, expect)]) : [(await inventory.put(record)).stored];
        if (stored === true) serials.set(name, record.serialNumber);
      }
    }
    const instants = [T0 - 3 * HOUR, T0, T0 + HOUR + 500, T0 + 3 * HOUR, T0 + 10 * HOUR];
    for (const at of instants) expect(await counted(at)).toEqual(await scanned(at));
    // Reindexing finds nothing to change.
    await inventory.reindexLiveLeaves();
    expect((await inventory.liveLeafCounts(T0)).complete).toBe(true);
    for (const at of instants) expect(await counted(at)).toEqual(await scanned(at));
  });

  it('after an upgrade, is incomplete until reindexed, then counts the records stored before it', async () => {
    await inventory.put(leaf('a.x', OLD, T0 + HOUR));
    await inventory.put(leaf('b.x', NEW, T0 + HOUR));
    // As the previous version left Redis: the records, no index.
    await db.redis.del(inventory.keys.liveIndex, inventory.keys.liveIssuers);
    await inventory.put(leaf('c.x', NEW, T0 + HOUR));
    expect((await inventory.liveLeafCounts(T0)).complete).toBe(false);
    await inventory.reindexLiveLeaves();
    const after = await inventory.liveLeafCounts(T0);
    expect(after).toEqual({ complete: true, byIssuer: new Map([[OLD, 1], [NEW, 2]]) });
  });

  it('is incomplete again when a replica of the previous version stores or deletes a record, until reindexed', async () => {
    await inventory.put(leaf('a.x', OLD, T0 + HOUR));
    await inventory.put(leaf('b.x', OLD, T0 + HOUR));
    await inventory.reindexLiveLeaves();
    expect((await inventory.liveLeafCounts(T0)).complete).toBe(true);
    // An older replica stores c.x (record and name index, no live-leaf entry) and deletes a.x (leaving its entry).
    await inventory.put(leaf('c.x', NEW, T0 + HOUR));
    await db.redis.zrem(inventory.keys.liveIndex, 'c.x');
    expect((await inventory.liveLeafCounts(T0)).complete).toBe(false);
    await db.redis.del(inventory.keys.cert('a.x'));
    await db.redis.zrem(inventory.keys.names, 'a.x');
    await db.redis.zrem(inventory.keys.renewIndex, 'a.x');
    await inventory.reindexLiveLeaves();
    expect(await inventory.liveLeafCounts(T0)).toEqual({ complete: true, byIssuer: new Map([[OLD, 1], [NEW, 1]]) });
  });

  it('reindexing never writes back what it read of a record replaced since', async () => {
    const a = leaf('a.x', OLD, T0 + HOUR);
    await inventory.put(a);
    const stale: LeafFacts = { commonName: 'a.x', serialNumber: a.serialNumber, issuerId: OLD, notAfterMs: T0 + HOUR };
    // The reindex read a.x, then a writer replaced it before the reindex wrote the index.
    await inventory.put(leaf('a.x', NEW, T0 + 2 * HOUR));
    const live = new LiveLeaves(db.redis, inventory.keys, { leaves: () => Promise.resolve({ items: [stale] }) });
    await live.reindex();
    expect((await live.count(T0)).byIssuer).toEqual(new Map([[NEW, 1]]));
  });

  it('counts a leaf whose notAfter is past the index range (GeneralizedTime 9999) as live', async () => {
    await inventory.put(leaf('forever.x', OLD, Date.parse('9999-12-31T23:59:59.000Z')));
    await inventory.put(leaf('other.x', NEW, T0 + HOUR));
    expect(await counted(Date.parse('2200-01-01T00:00:00.000Z'))).toEqual(new Map([[OLD, 1]]));
  });
});

describe("listing one issuer's live leaves from the index", () => {
  /** Every name listed, page by page, with the pages' sizes. */
  async function listAll(issuerId: string, nowMs: number, limit: number, between?: (page: number) => Promise<void>): Promise<{ names: string[]; pages: number }> {
    const names: string[] = [];
    let after: Parameters<Inventory['liveLeafNames']>[2]['after'];
    for (let pages = 1; pages <= 100; pages += 1) {
      const page = await inventory.liveLeafNames(issuerId, nowMs, { limit, ...(after === undefined ? {} : { after }) });
      names.push(...page.names);
      if (page.next === undefined) return { names, pages };
      after = page.next;
      await between?.(pages);
    }
    throw new Error('listing did not end');
  }

  it('lists exactly the live leaves of that issuer, over pages, including many with the same notAfter', async () => {
    const same = T0 + HOUR;
    for (let i = 0; i < 7; i += 1) await inventory.put(leaf(`old-${i}.x`, OLD, same));
    await inventory.put(leaf('old-later.x', OLD, T0 + 2 * HOUR));
    await inventory.put(leaf('old-expired.x', OLD, T0 - 1000));
    for (let i = 0; i < 3; i += 1) await inventory.put(leaf(`new-${i}.x`, NEW, same));
    const listed = await listAll(OLD, T0, 3);
    expect([...listed.names].sort()).toEqual(['old-0.x', 'old-1.x', 'old-2.x', 'old-3.x', 'old-4.x', 'old-5.x', 'old-6.x', 'old-later.x']);
    expect(listed.pages).toBe(3);
    expect((await listAll(NEW, T0, 1000)).names.sort()).toEqual(['new-0.x', 'new-1.x', 'new-2.x']);
    expect((await listAll('d3'.repeat(32), T0, 10)).names).toEqual([]);
  });

  it('skips no leaf when the last one listed moves to another root before the next page is read', async () => {
    const same = T0 + HOUR;
    for (let i = 0; i < 6; i += 1) await inventory.put(leaf(`n${i}.x`, OLD, same));
    const moved: string[] = [];
    const listed = await listAll(OLD, T0, 2, async () => {
      // The page's last leaf, and one not listed yet, are re-issued by the new root meanwhile.
      const last = moved.length === 0 ? 'n1.x' : 'n3.x';
      await inventory.put(leaf(last, NEW, same + HOUR));
      moved.push(last);
    });
    const seen = new Set(listed.names);
    for (let i = 0; i < 6; i += 1) if (!moved.includes(`n${i}.x`)) expect(seen.has(`n${i}.x`), `n${i}.x listed`).toBe(true);
  });

  it('reads the facts of the current records, not what the index says of them', async () => {
    const a = leaf('a.x', NEW, T0 + HOUR);
    await inventory.put(a);
    const entry = await db.redis.zscore(inventory.keys.liveIndex, 'a.x');
    // A replica of the previous version put a.x back under the old root without indexing it.
    const back = leaf('a.x', OLD, T0 + 2 * HOUR);
    await inventory.put(back);
    await db.redis.zadd(inventory.keys.liveIndex, entry ?? '0', 'a.x');
    expect((await listAll(NEW, T0, 10)).names).toEqual(['a.x']);
    expect(await inventory.leafFacts(['a.x', 'gone.x'])).toEqual([{ commonName: 'a.x', serialNumber: back.serialNumber, issuerId: OLD, notAfterMs: T0 + 2 * HOUR }]);
  });
});
