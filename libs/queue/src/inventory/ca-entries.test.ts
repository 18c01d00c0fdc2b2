// The CA PEMs of a record are stored once per CA (issue 15: ~1.3 KB of every record was the same
// two PEMs). What an operator would notice: records read back whole, old records keep working
// after the upgrade, and a record whose CA entry is gone is reported, never served without it.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createRootCa, pemToDer } from '@fsm-certs/x509';
import type { CertificateRecord } from '../contracts/certificate-record.js';
import { certificateRecord, serial } from '../test-fixtures.test-helpers.js';
import { Inventory } from './inventory.js';
import { IssueBatchStore, type StoreWrite } from './issue-batch-store.js';
import { usePrivateRedis } from '../testing.test-helpers.js';

const db = usePrivateRedis({ flush: 'each' });
const PREFIX = '{ca-test}';
const ROOT_A = createRootCa().issuer.certificatePem;
const ROOT_B = createRootCa().issuer.certificatePem;

function issued(record: CertificateRecord): StoreWrite {
  return {
    kind: 'store',
    record,
    expectSerial: null,
    requestIds: [randomUUID()],
    event: { version: 1, kind: 'issued', at: record.issuedAt, commonName: record.commonName, serialNumber: record.serialNumber, notAfter: record.notAfter },
  };
}

const fromA = (name: string): CertificateRecord => certificateRecord({ commonName: name, serialNumber: serial(), issuingCaPem: ROOT_A, trustedCasPem: [ROOT_A] });
const fromB = (name: string): CertificateRecord => certificateRecord({ commonName: name, serialNumber: serial(), issuingCaPem: ROOT_B, trustedCasPem: [ROOT_A, ROOT_B] });

async function caKeys(): Promise<string[]> {
  return db.redis.keys(`${PREFIX}:inv:ca:*`);
}

describe('CA PEMs stored once per CA', () => {
  it('keeps one copy of the CA PEMs for every certificate of a CA, and reads each record back whole', async () => {
    const store = new IssueBatchStore(db.redis, { prefix: PREFIX });
    const records = [fromA('a1.x'), fromA('a2.x'), fromB('b1.x'), fromA('a3.x'), fromB('b2.x')];
    expect(await store.commit(records.map(issued))).toEqual([true, true, true, true, true]);
    const inventory = new Inventory(db.redis, { prefix: PREFIX });
    await inventory.put(fromA('a4.x'));

    expect(await caKeys()).toHaveLength(2);
    for (const record of records) {
      // The CA PEMs' DER is in no record: the CA entry holds them.
      const stored = (await db.redis.hgetBuffer(inventory.keys.cert(record.commonName), 'record')) ?? Buffer.alloc(0);
      expect(stored.length).toBeGreaterThan(0);
      for (const pem of [ROOT_A, ROOT_B]) {
        expect(stored.includes(pemToDer(pem))).toBe(false);
        expect(stored.includes(pem.slice(30, 90))).toBe(false);
      }
      expect(await inventory.get(record.commonName)).toEqual(record);
    }
    // A reader that never saw these CAs (another replica) loads them.
    const fresh = new Inventory(db.redis, { prefix: PREFIX });
    const page = await fresh.list({ limit: 10 });
    expect(page.unreadable).toEqual([]);
    expect(page.items.map((r) => [r.commonName, r.issuingCaPem === ROOT_B ? 'B' : 'A', r.trustedCasPem.length])).toEqual([
      ['a1.x', 'A', 1],
      ['a2.x', 'A', 1],
      ['a3.x', 'A', 1],
      ['a4.x', 'A', 1],
      ['b1.x', 'B', 2],
      ['b2.x', 'B', 2],
    ]);
    const lookup = await new IssueBatchStore(db.redis, { prefix: PREFIX }).lookup([{ requestId: randomUUID(), commonName: 'b2.x' }]);
    expect(lookup[0]?.current).toEqual(records[4]);
  });

  it('still reads, lists, rotates and deletes a record written with its CA PEMs inside (before the upgrade)', async () => {
    const inventory = new Inventory(db.redis, { prefix: PREFIX });
    const old = fromA('old.x');
    // Exactly what the previous version's scripts wrote: the whole record JSON, and its serial.
    const { previousSerialNumber: _none, ...json } = old;
    await db.redis.hset(inventory.keys.cert('old.x'), 'record', JSON.stringify(json), 'serial', old.serialNumber);
    await db.redis.zadd(inventory.keys.names, 0, 'old.x');
    await db.redis.zadd(inventory.keys.renewIndex, Date.parse(old.renewAt), 'old.x');

    expect(await inventory.get('old.x')).toEqual(old);
    expect((await inventory.list({ limit: 10 })).items).toEqual([old]);
    expect((await new IssueBatchStore(db.redis, { prefix: PREFIX }).lookup([{ requestId: randomUUID(), commonName: 'old.x' }]))[0]?.current).toEqual(old);

    const next = fromB('old.x');
    expect((await inventory.put(next, { expectSerial: old.serialNumber })).stored).toBe(true);
    expect(await inventory.get('old.x')).toEqual({ ...next, previousSerialNumber: old.serialNumber });
    expect((await inventory.delete('old.x'))?.record).toEqual({ ...next, previousSerialNumber: old.serialNumber });
  });

  it('reports a record whose CA entry is missing as unreadable instead of serving it without its CA', async () => {
    const writer = new Inventory(db.redis, { prefix: PREFIX });
    const record = fromA('lost.x');
    await writer.put(record);
    await writer.put(fromB('kept.x'));
    await db.redis.del(writer.keys.caEntry((await db.redis.hget(writer.keys.cert('lost.x'), 'ca')) ?? 'none'));

    const reader = new Inventory(db.redis, { prefix: PREFIX });
    await expect(reader.get('lost.x')).rejects.toMatchObject({ code: 'RECORD_UNREADABLE', message: expect.stringContaining('CA entry') });
    const page = await reader.list({ limit: 10 });
    expect(page.items.map((r) => r.commonName)).toEqual(['kept.x']);
    expect(page.unreadable.map((e) => [e.commonName, e.serialNumber])).toEqual([['lost.x', record.serialNumber]]);
    // Deleting it is how an operator gets rid of it, as for any unreadable record.
    expect(await reader.delete('lost.x')).toMatchObject({ commonName: 'lost.x', serialNumber: record.serialNumber, record: undefined });
  });

  it('a damaged CA entry (content not matching its digest) is not trusted', async () => {
    const writer = new Inventory(db.redis, { prefix: PREFIX });
    await writer.put(fromA('tampered.x'));
    const digest = (await db.redis.hget(writer.keys.cert('tampered.x'), 'ca')) ?? 'none';
    await db.redis.set(writer.keys.caEntry(digest), JSON.stringify({ issuingCaPem: ROOT_B, trustedCasPem: [ROOT_B] }));
    await expect(new Inventory(db.redis, { prefix: PREFIX }).get('tampered.x')).rejects.toMatchObject({ code: 'RECORD_UNREADABLE' });
  });
});
