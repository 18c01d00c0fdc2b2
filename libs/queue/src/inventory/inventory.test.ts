import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@fsm-certs/testing';
import { MAX_CERTIFICATE_PEM_CHARS } from '../contracts/certificate-record.js';
import { QueueError } from '../errors.js';
import { certificateRecord, serial } from '../test-fixtures.test-helpers.js';
import { Inventory } from './inventory.js';
import { usePrivateRedis } from '../testing.test-helpers.js';

const db = usePrivateRedis({ flush: 'each' });
let inventory: Inventory;
const PREFIX = '{inv-test}';

beforeAll(async () => {
  inventory = new Inventory(db.redis, { prefix: PREFIX, now: () => new Date('2030-05-01T00:00:00Z') });
});

const at = (iso: string): string => new Date(iso).toISOString();

describe('Inventory', () => {
  it('stores a record and reads it back unchanged', async () => {
    const record = certificateRecord({ commonName: 'a.ns.cluster.local', encryptedPrivateKey: 'v1.x.y.z' });
    expect(await inventory.put(record)).toEqual({ stored: true, previousSerialNumber: undefined });
    expect(await inventory.get('a.ns.cluster.local')).toEqual(record);
    expect(await inventory.get('missing.ns.cluster.local')).toBeUndefined();
    expect(await inventory.size()).toBe(1);
  });

  it('keeps the previous serial when a name is re-issued', async () => {
    const first = certificateRecord({ commonName: 'a.b' });
    const second = certificateRecord({ commonName: 'a.b' });
    await inventory.put(first);
    expect(await inventory.put(second)).toEqual({ stored: true, previousSerialNumber: first.serialNumber });
    expect(await inventory.get('a.b')).toEqual({ ...second, previousSerialNumber: first.serialNumber });
    expect(await inventory.size()).toBe(1);
  });

  it('compare-and-set: refuses a put whose expected serial is no longer current', async () => {
    const first = certificateRecord({ commonName: 'a.b' });
    await inventory.put(first, { expectSerial: null });
    expect((await inventory.put(certificateRecord({ commonName: 'a.b' }), { expectSerial: null })).stored).toBe(false);
    expect((await inventory.put(certificateRecord({ commonName: 'a.b' }), { expectSerial: 'dead' })).stored).toBe(false);
    const winner = certificateRecord({ commonName: 'a.b' });
    expect(await inventory.put(winner, { expectSerial: first.serialNumber })).toEqual({ stored: true, previousSerialNumber: first.serialNumber });
    expect((await inventory.get('a.b'))?.serialNumber).toBe(winner.serialNumber);
  });

  it('refuses to store an invalid record', async () => {
    const bad = { ...certificateRecord(), serialNumber: 'NOT-HEX' };
    await expect(inventory.put(bad)).rejects.toMatchObject({ code: 'RECORD_INVALID' });
    expect(await inventory.size()).toBe(0);
  });

  it('lists in name order, page by page, with a cursor that survives inserts', async () => {
    const names = Array.from({ length: 25 }, (_, i) => `svc-${String(i).padStart(2, '0')}.ns.cluster.local`);
    for (const name of [...names].reverse()) await inventory.put(certificateRecord({ commonName: name }));
    const first = await inventory.list({ limit: 10 });
    expect(first.items.map((r) => r.commonName)).toEqual(names.slice(0, 10));
    expect(first.nextCursor).toBe(names[9]);
    // A name inserted before the cursor must not shift the next page.
    await inventory.put(certificateRecord({ commonName: 'aaa.ns.cluster.local' }));
    const second = await inventory.list({ limit: 10, cursor: first.nextCursor });
    expect(second.items.map((r) => r.commonName)).toEqual(names.slice(10, 20));
    const third = await inventory.list({ limit: 10, cursor: second.nextCursor });
    expect(third.items.map((r) => r.commonName)).toEqual(names.slice(20));
    expect(third.nextCursor).toBeUndefined();
  });

  it('an exactly full last page has no next cursor', async () => {
    for (const n of ['a', 'b']) await inventory.put(certificateRecord({ commonName: `${n}.x` }));
    const page = await inventory.list({ limit: 2 });
    expect(page.items).toHaveLength(2);
    expect(page.nextCursor).toBeUndefined();
  });

  it.each([0, -1, 1.5, 1001])('refuses list limit %s', async (limit) => {
    await expect(inventory.list({ limit })).rejects.toBeInstanceOf(QueueError);
  });

  it('returns due names earliest first, only up to now, at most limit', async () => {
    const records = [
      certificateRecord({ commonName: 'late.x', renewAt: at('2030-01-03T00:00:00Z') }),
      certificateRecord({ commonName: 'early.x', renewAt: at('2030-01-01T00:00:00Z') }),
      certificateRecord({ commonName: 'mid.x', renewAt: at('2030-01-02T00:00:00Z') }),
      certificateRecord({ commonName: 'future.x', renewAt: at('2031-01-01T00:00:00Z') }),
    ];
    for (const r of records) await inventory.put(r);
    const now = Date.parse('2030-06-01T00:00:00Z');
    const due = await inventory.due(now, 10);
    expect(due.map((d) => d.commonName)).toEqual(['early.x', 'mid.x', 'late.x']);
    expect(due[0]).toEqual({ commonName: 'early.x', serialNumber: records[1]?.serialNumber, renewAtMs: Date.parse('2030-01-01T00:00:00Z') });
    expect((await inventory.due(now, 2)).map((d) => d.commonName)).toEqual(['early.x', 'mid.x']);
    expect(await inventory.due(Date.parse('2029-01-01T00:00:00Z'), 10)).toEqual([]);
  });

  it('moves a re-issued name in the renew index instead of duplicating it', async () => {
    await inventory.put(certificateRecord({ commonName: 'a.x', renewAt: at('2030-01-01T00:00:00Z') }));
    await inventory.put(certificateRecord({ commonName: 'a.x', renewAt: at('2030-02-01T00:00:00Z') }));
    expect(await inventory.due(Date.parse('2030-01-15T00:00:00Z'), 10)).toEqual([]);
    expect(await inventory.due(Date.parse('2030-03-01T00:00:00Z'), 10)).toHaveLength(1);
  });

  it('delete returns the removed record and clears every index', async () => {
    const record = certificateRecord({ commonName: 'gone.x', renewAt: at('2030-01-01T00:00:00Z') });
    await inventory.put(record);
    expect(await inventory.delete('gone.x')).toEqual({ commonName: 'gone.x', serialNumber: record.serialNumber, record });
    expect(await inventory.get('gone.x')).toBeUndefined();
    expect(await inventory.size()).toBe(0);
    expect(await inventory.due(Date.parse('2031-01-01T00:00:00Z'), 10)).toEqual([]);
    expect((await inventory.list({ limit: 10 })).items).toEqual([]);
    expect(await inventory.delete('gone.x')).toBeUndefined();
  });

  it('finds the certificate a request id produced, also after one rotation, not after release', async () => {
    const requestId = randomUUID();
    const issued = certificateRecord({ commonName: 'r.x' });
    await inventory.put(issued, { requestIds: [requestId] });
    expect(await inventory.findByRequestId(requestId)).toEqual(issued);
    expect(await inventory.findByRequestId(randomUUID())).toBeUndefined();
    const rotated = certificateRecord({ commonName: 'r.x' });
    await inventory.put(rotated);
    expect((await inventory.findByRequestId(requestId))?.serialNumber).toBe(rotated.serialNumber);
    await inventory.delete('r.x');
    expect(await inventory.findByRequestId(requestId)).toBeUndefined();
  });

  it('rememberRequest expires after its TTL', async () => {
    const record = certificateRecord({ commonName: 't.x' });
    await inventory.put(record);
    const id = randomUUID();
    // Long enough that a loaded machine reads it back before it lapses; short enough to wait for.
    await inventory.rememberRequest(id, 't.x', record.serialNumber, 1_500);
    expect(await inventory.findByRequestId(id)).toEqual(record);
    const ttl = await db.redis.pttl(inventory.keys.request(id));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1_500);
    // Redis lets it lapse.
    await eventually(async () => ((await inventory.findByRequestId(id)) === undefined ? true : undefined), 10_000, 'the request to be forgotten');
  });

  it('stores and serves the trust bundle', async () => {
    expect(await inventory.getTrustBundle()).toBeUndefined();
    const pem = certificateRecord().issuingCaPem;
    await inventory.setTrustBundle({ issuingCaPem: pem, trustedCasPem: [pem], rootNotAfter: new Date('2040-01-01T00:00:00Z') });
    expect(await inventory.getTrustBundle()).toEqual({
      version: 1,
      issuingCaPem: pem,
      trustedCasPem: [pem],
      rootNotAfter: '2040-01-01T00:00:00.000Z',
      updatedAt: '2030-05-01T00:00:00.000Z',
    });
  });

  it('get reports a stored record that does not decode as RECORD_UNREADABLE, naming it and its serial', async () => {
    await db.redis.hset(inventory.keys.cert('bad.x'), 'record', '{"commonName":"bad.x"}', 'serial', 'ab');
    await expect(inventory.get('bad.x')).rejects.toMatchObject({ code: 'RECORD_UNREADABLE', commonName: 'bad.x', serialNumber: 'ab' });
    await db.redis.hset(inventory.keys.cert('bad.x'), 'record', 'not json');
    await expect(inventory.get('bad.x')).rejects.toMatchObject({ code: 'RECORD_UNREADABLE', detail: 'it is not valid JSON' });
  });

  it('list leaves out records that do not decode and names them, instead of failing the page', async () => {
    await inventory.put(certificateRecord({ commonName: 'a.x' }));
    await inventory.put(certificateRecord({ commonName: 'c.x' }));
    const newer = certificateRecord({ commonName: 'b.x' });
    await inventory.put(newer);
    // As a version with another key algorithm would have written it.
    await db.redis.hset(inventory.keys.cert('b.x'), 'record', JSON.stringify({ ...newer, keyAlgorithm: 'ml-dsa-65' }));
    const page = await inventory.list({ limit: 10 });
    expect(page.items.map((r) => r.commonName)).toEqual(['a.x', 'c.x']);
    expect(page.unreadable.map((e) => [e.commonName, e.serialNumber, e.code])).toEqual([['b.x', newer.serialNumber, 'RECORD_UNREADABLE']]);
    expect(page.unreadable[0]?.detail).toMatch(/^keyAlgorithm: /);
  });

  it('delete removes a record that does not decode and says which serial it held', async () => {
    await inventory.put(certificateRecord({ commonName: 'bad.x', serialNumber: 'beef' }));
    await db.redis.hset(inventory.keys.cert('bad.x'), 'record', '{');
    expect(await inventory.delete('bad.x')).toEqual({ commonName: 'bad.x', serialNumber: 'beef', record: undefined });
    expect(await inventory.size()).toBe(0);
    expect(await inventory.due(Date.parse('2040-01-01T00:00:00Z'), 10)).toEqual([]);
  });

  it('put refuses, before writing, a record its own readers would refuse', async () => {
    const bad = certificateRecord({ commonName: 'huge.x', chainPem: ['A'.repeat(MAX_CERTIFICATE_PEM_CHARS + 1)] });
    await expect(inventory.put(bad)).rejects.toMatchObject({ code: 'RECORD_INVALID', message: expect.stringContaining('huge.x: chainPem.0') });
    expect(await inventory.size()).toBe(0);
  });

  it('writes only keys under its prefix, all sharing its cluster hash tag', async () => {
    await inventory.put(certificateRecord({ commonName: 'k.x' }), { requestIds: [randomUUID()] });
    await inventory.setTrustBundle({ issuingCaPem: 'x', trustedCasPem: ['x'], rootNotAfter: new Date() });
    const keys = await db.redis.keys('*');
    // cert hash, renew index, names, request marker, the record's CA entry, trust bundle, live-leaf index and its issuers
    expect(keys.length).toBe(8);
    for (const key of keys) expect(key.startsWith(`${PREFIX}:`)).toBe(true);
    // Redis Cluster hashes only the text inside the first {...}: one tag means one slot.
    expect(new Set(keys.map(hashTag))).toEqual(new Set(['inv-test']));
  });

  it('due() costs O(due), not O(all): one range read plus one lookup per due name, whatever the inventory holds', async () => {
    const pipeline = db.redis.pipeline();
    const n = 20_000;
    for (let i = 0; i < n; i++) pipeline.zadd(inventory.keys.renewIndex, String(Date.parse('2035-01-01T00:00:00Z') + i), `n${i}.x`);
    await pipeline.exec();
    await inventory.put(certificateRecord({ commonName: 'due.x', serialNumber: serial(), renewAt: at('2030-01-01T00:00:00Z') }));
    let found: string[] = [];
    const cost = await redisCost(async () => {
      found = (await inventory.due(Date.parse('2031-01-01T00:00:00Z'), 100)).map((d) => d.commonName);
    });
    expect(found).toEqual(['due.x']);
    expect(cost.commands).toEqual({ zrangebyscore: 1, hget: 1 });
    // Reading the 20 000 names that are not due would send hundreds of kilobytes.
    expect(cost.bytesSent).toBeLessThan(1_000);
  });
});

/** Commands Redis executed (by name) and bytes it sent to clients while `work` ran. */
async function redisCost(work: () => Promise<void>): Promise<{ commands: Record<string, number>; bytesSent: number }> {
  const read = async (): Promise<{ calls: Map<string, number>; bytes: number }> => {
    const [stats, commandstats] = [await db.redis.info('stats'), await db.redis.info('commandstats')];
    const calls = new Map([...commandstats.matchAll(/^cmdstat_(\S+?):calls=(\d+)/gm)].map((m) => [m[1] ?? '', Number(m[2])]));
    return { calls, bytes: Number(/^total_net_output_bytes:(\d+)/m.exec(stats)?.[1] ?? '0') };
  };
  // What reading the counters itself costs, measured the same way with nothing in between.
  const idle0 = await read();
  const idle1 = await read();
  const before = await read();
  await work();
  const after = await read();
  const commands: Record<string, number> = {};
  for (const [name, calls] of after.calls) {
    const own = name === 'info' ? (idle1.calls.get('info') ?? 0) - (idle0.calls.get('info') ?? 0) : 0;
    const delta = calls - (before.calls.get(name) ?? 0) - own;
    if (delta > 0) commands[name] = delta;
  }
  return { commands, bytesSent: after.bytes - before.bytes - (idle1.bytes - idle0.bytes) };
}

function hashTag(key: string): string {
  const match = /\{([^}]+)\}/.exec(key);
  return match?.[1] ?? key;
}
