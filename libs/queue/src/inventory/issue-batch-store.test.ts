import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CertificateRecord } from '../contracts/certificate-record.js';
import type { IssuedEvent, RotatedEvent } from '../contracts/events.js';
import { EventStream } from '../events/event-stream.js';
import { AuditLog, DEFAULT_AUDIT_RETENTION_MS } from '../audit/audit-log.js';
import { certificateAuditRecord } from '../audit/issuance-record.js';
import type { IssueAuditContext } from '../contracts/issue-job.js';
import { MAX_CERTIFICATE_PEM_CHARS } from '../contracts/certificate-record.js';
import { certificateRecord, longLeafPem } from '../test-fixtures.test-helpers.js';
import { Inventory } from './inventory.js';
import { IssueBatchStore, type StoreWrite } from './issue-batch-store.js';
import { requestMarker } from './record-codec.js';
import { usePrivateRedis } from '../testing.test-helpers.js';

const db = usePrivateRedis({ flush: 'each' });
let inventory: Inventory;
let store: IssueBatchStore;
let events: EventStream;
const PREFIX = '{batch-test}';

beforeAll(async () => {
  inventory = new Inventory(db.redis, { prefix: PREFIX });
  store = new IssueBatchStore(db.redis, { prefix: PREFIX });
  events = new EventStream(db.redis, { prefix: PREFIX });
});

const AT = '2030-01-01T00:00:00.000Z';

function storeWrite(record: CertificateRecord, expectSerial: string | null, requestIds: string[] = []): StoreWrite {
  const event: IssuedEvent | RotatedEvent =
    expectSerial === null
      ? { version: 1, kind: 'issued', at: AT, commonName: record.commonName, serialNumber: record.serialNumber, notAfter: record.notAfter }
      : {
          version: 1,
          kind: 'rotated',
          at: AT,
          commonName: record.commonName,
          serialNumber: record.serialNumber,
          previousSerialNumber: expectSerial,
          notAfter: record.notAfter,
          reason: 'request',
        };
  return { kind: 'store', record, expectSerial, requestIds, event };
}

async function announced(): Promise<string[]> {
  const entries = await db.redis.xrange(events.key, '-', '+');
  return entries.map(([, fields]) => fields[1] ?? '');
}

describe('IssueBatchStore', () => {
  it('stores new names with their request ids and announcements in one call, readable by Inventory', async () => {
    const a = certificateRecord({ commonName: 'a.x' });
    const b = certificateRecord({ commonName: 'b.x' });
    const [idA, idB1, idB2] = [randomUUID(), randomUUID(), randomUUID()];
    expect(await store.commit([storeWrite(a, null, [idA]), storeWrite(b, null, [idB1, idB2])])).toEqual([true, true]);
    expect(await inventory.get('a.x')).toEqual(a);
    expect(await inventory.findByRequestId(idB2)).toEqual(b);
    expect(await inventory.size()).toBe(2);
    expect((await inventory.due(Date.parse('2031-01-01T00:00:00Z'), 10)).map((d) => d.commonName).sort()).toEqual(['a.x', 'b.x']);
    // Subscribers of the event stream read what the script appended.
    const seen: string[] = [];
    for await (const { event } of events.subscribe({ fromId: '0', blockMs: 10 })) {
      if (event.kind === 'issued') seen.push(event.commonName);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual(['a.x', 'b.x']);
  });

  it('applies each write only while its expected serial is current; a failed one changes nothing', async () => {
    const first = certificateRecord({ commonName: 'c.x' });
    await store.commit([storeWrite(first, null)]);
    const loser = certificateRecord({ commonName: 'c.x' });
    const winner = certificateRecord({ commonName: 'c.x' });
    const other = certificateRecord({ commonName: 'd.x' });
    const lostId = randomUUID();
    const result = await store.commit([
      storeWrite(loser, null, [lostId]), // the name exists already
      storeWrite(winner, first.serialNumber),
      storeWrite(certificateRecord({ commonName: 'c.x' }), first.serialNumber), // moved on in the same call
      storeWrite(other, 'dead'), // expects a serial the name never had
    ]);
    expect(result).toEqual([false, true, false, false]);
    expect(await inventory.get('c.x')).toEqual({ ...winner, previousSerialNumber: first.serialNumber });
    expect(await inventory.get('d.x')).toBeUndefined();
    expect(await inventory.findByRequestId(lostId)).toBeUndefined();
    const texts = await announced();
    expect(texts).toHaveLength(2);
    expect(texts[1]).toContain(`"previousSerialNumber":"${first.serialNumber}"`);
    expect(texts.join()).not.toContain(loser.serialNumber);
  });

  it('a store-if-new write is refused while its name exists or its request id is remembered, and applied when both are new', async () => {
    const existing = certificateRecord({ commonName: 'n1.x' });
    const knownId = randomUUID();
    await store.commit([storeWrite(existing, null, [knownId])]);
    const ifNew = (record: ReturnType<typeof certificateRecord>, ids: string[]): StoreWrite => ({ ...storeWrite(record, null, ids), unlessRequestKnown: true });
    const onExisting = certificateRecord({ commonName: 'n1.x' });
    const knownRequest = certificateRecord({ commonName: 'n2.x' });
    const fresh = certificateRecord({ commonName: 'n3.x' });
    const freshId = randomUUID();
    expect(await store.commit([ifNew(onExisting, [randomUUID()]), ifNew(knownRequest, [knownId]), ifNew(fresh, [freshId])])).toEqual([false, false, true]);
    expect((await inventory.get('n1.x'))?.serialNumber).toBe(existing.serialNumber);
    expect(await inventory.get('n2.x')).toBeUndefined();
    expect(await inventory.findByRequestId(knownId)).toEqual(existing);
    expect(await inventory.findByRequestId(freshId)).toEqual(fresh);
    const texts = await announced();
    expect(texts).toHaveLength(2);
    expect(texts.join()).not.toContain(onExisting.serialNumber);
    expect(texts.join()).not.toContain(knownRequest.serialNumber);
  });

  it('a refused store-if-new write leaves every request id it carries unknown, with one id or several', async () => {
    const existing = certificateRecord({ commonName: 'm1.x' });
    const knownId = randomUUID();
    await store.commit([storeWrite(existing, null, [knownId])]);
    const ifNew = (record: ReturnType<typeof certificateRecord>, ids: string[]): StoreWrite => ({ ...storeWrite(record, null, ids), unlessRequestKnown: true });
    const [onExistingId, besideKnownId] = [randomUUID(), randomUUID()];
    const result = await store.commit([
      ifNew(certificateRecord({ commonName: 'm1.x' }), [onExistingId]),
      ifNew(certificateRecord({ commonName: 'm2.x' }), [besideKnownId, knownId]),
      ifNew(certificateRecord({ commonName: 'm3.x' }), [knownId]),
    ]);
    expect(result).toEqual([false, false, false]);
    expect(await db.redis.exists(store.keys.request(onExistingId), store.keys.request(besideKnownId))).toBe(0);
    expect(await inventory.findByRequestId(knownId)).toEqual(existing);
    expect(await inventory.get('m2.x')).toBeUndefined();
    expect(await inventory.get('m3.x')).toBeUndefined();
    expect(await announced()).toHaveLength(1);
  });

  it("checks a store-if-new write's lone request id in the same command that stores it, and trims the announcements once per call", async () => {
    const ifNew = (record: ReturnType<typeof certificateRecord>): StoreWrite => ({ ...storeWrite(record, null, [randomUUID()]), unlessRequestKnown: true });
    await store.commit([ifNew(certificateRecord({ commonName: 'warm.x' }))]);
    await db.redis.config('RESETSTAT');
    const writes = ['c1.x', 'c2.x', 'c3.x', 'c4.x'].map((commonName) => ifNew(certificateRecord({ commonName })));
    expect(await store.commit(writes)).toEqual([true, true, true, true]);
    const calls = Object.fromEntries([...(await db.redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1], Number(m[2])]));
    // Redis commands per certificate are what issue 15 counts: one SET per request id; the one
    // EXISTS is the batch's check that its CA entry, sent by digest, is stored.
    expect(calls['exists']).toBe(1);
    expect(calls['set']).toBe(4);
    expect(calls['xadd']).toBe(4);
    expect(calls['xtrim']).toBe(1);
    expect(calls['zadd']).toBe(3);
    for (const write of writes) expect(await inventory.findByRequestId(write.requestIds[0] ?? '')).toEqual(write.record);
  });

  it("writes a batch's index entries and audit records with one command per index, and a rotation's previous serial with its record", async () => {
    const trail = new AuditLog(db.redis, { prefix: PREFIX, retentionMs: DEFAULT_AUDIT_RETENTION_MS });
    const context = (requestId: string): IssueAuditContext => ({ id: AuditLog.newId(Date.now()), operation: 'issueCertificate', caller: 'bookstore-operator', clientAddress: '127.0.0.1', requestId });
    const before = certificateRecord({ commonName: 'r1.x' });
    await store.commit([storeWrite(before, null)]);
    await db.redis.config('RESETSTAT');
    const fresh: StoreWrite = { ...storeWrite(certificateRecord({ commonName: 'a1.x' }), null, [randomUUID()]), audit: context('req-a1') };
    const rotated: StoreWrite = { ...storeWrite(certificateRecord({ commonName: 'r1.x' }), before.serialNumber), audit: context('req-r1') };
    // One name stored twice in the call: its index entries are those of its last write.
    const [renewEarly, renewLate] = ['2030-01-01T02:00:00.000Z', '2030-01-01T20:00:00.000Z'];
    const first = certificateRecord({ commonName: 'a2.x', renewAt: renewEarly });
    const again = certificateRecord({ commonName: 'a2.x', renewAt: renewLate });
    expect(await store.commit([fresh, rotated, storeWrite(first, null), storeWrite(again, first.serialNumber)])).toEqual([true, true, true, true]);
    const calls = Object.fromEntries([...(await db.redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1], Number(m[2])]));
    // renew, names, live leaves and the audit trail's index: one ZADD each for the four writes;
    // one HSET per record (a rotation's previous serial in it) and one for the audit records.
    expect(calls['zadd']).toBe(4);
    expect(calls['hset']).toBe(5);
    expect(await inventory.get('r1.x')).toEqual({ ...rotated.record, previousSerialNumber: before.serialNumber });
    expect(await inventory.get('a2.x')).toEqual({ ...again, previousSerialNumber: first.serialNumber });
    expect((await inventory.due(Date.parse(renewEarly), 10)).map((d) => d.commonName)).not.toContain('a2.x');
    expect((await inventory.due(Date.parse(renewLate), 10)).map((d) => d.commonName).sort()).toEqual(['a1.x', 'a2.x', 'r1.x']);
    expect(await inventory.size()).toBe(3);
    expect((await inventory.liveLeafCounts(Date.parse('2030-01-01T01:00:00.000Z'))).byIssuer.get(before.issuerId)).toBe(3);
    const records = (await trail.query({ limit: 10 })).items;
    expect(records).toEqual([fresh, rotated].map((w) => w.kind === 'store' && w.audit !== undefined && certificateAuditRecord(w.audit, 'issued', 201, w.record)));
  });

  it('indexes every write of a batch too large for one command of each index', async () => {
    const writes = Array.from({ length: 600 }, (_, i) => storeWrite(certificateRecord({ commonName: `big-${i}.x` }), null));
    expect(await store.commit(writes)).toEqual(writes.map(() => true));
    expect(await inventory.size()).toBe(600);
    expect(await inventory.due(Date.parse('2031-01-01T00:00:00.000Z'), 1000)).toHaveLength(600);
    expect((await inventory.liveLeafCounts(Date.parse('2030-01-01T01:00:00.000Z'))).byIssuer.get(writes[0]?.record.issuerId ?? '')).toBe(600);
  });

  it('keeps the announcements stream near its cap across many batches', async () => {
    const small = new IssueBatchStore(db.redis, { prefix: PREFIX, eventMaxLength: 10 });
    for (let batch = 0; batch < 40; batch++) {
      const writes = Array.from({ length: 7 }, (_, i) => ({ ...storeWrite(certificateRecord({ commonName: `t${batch}-${i}.x` }), null, [randomUUID()]), unlessRequestKnown: true }));
      expect(await small.commit(writes)).toEqual(writes.map(() => true));
    }
    // MAXLEN ~ trims whole radix-tree nodes (100 entries each), so up to a node more than the cap stays.
    expect(await db.redis.xlen(events.key)).toBeLessThanOrEqual(10 + 100);
  });

  it('remembers a request id only while the serial it names is current', async () => {
    const record = certificateRecord({ commonName: 'e.x' });
    await store.commit([storeWrite(record, null)]);
    const [kept, refused] = [randomUUID(), randomUUID()];
    const result = await store.commit([
      { kind: 'remember', commonName: 'e.x', serialNumber: record.serialNumber, requestId: kept },
      { kind: 'remember', commonName: 'e.x', serialNumber: 'abc', requestId: refused },
    ]);
    expect(result).toEqual([true, false]);
    expect(await inventory.findByRequestId(kept)).toEqual(record);
    expect(await db.redis.exists(store.keys.request(refused))).toBe(0);
  });

  it('looks up markers and current records of a batch in one call', async () => {
    const record = certificateRecord({ commonName: 'f.x' });
    const id = randomUUID();
    await store.commit([storeWrite(record, null, [id])]);
    const rotated = certificateRecord({ commonName: 'f.x' });
    await store.commit([storeWrite(rotated, record.serialNumber)]);
    const [known, fresh] = await store.lookup([
      { requestId: id, commonName: 'f.x' },
      { requestId: randomUUID(), commonName: 'new.x' },
    ]);
    expect(known).toEqual({
      marker: { serialNumber: record.serialNumber, commonName: 'f.x' },
      current: { ...rotated, previousSerialNumber: record.serialNumber },
    });
    expect(fresh).toEqual({ marker: undefined, current: undefined });
    expect(await store.lookup([])).toEqual([]);
  });

  it('marks a stored record that does not decode on its own item; the other items of the batch look up as usual', async () => {
    const good = certificateRecord({ commonName: 'good.x' });
    await store.commit([storeWrite(good, null)]);
    await db.redis.hset(store.keys.cert('bad.x'), 'record', '{"commonName":"bad.x"}', 'serial', 'ab');
    const [bad, fine] = await store.lookup([
      { requestId: randomUUID(), commonName: 'bad.x' },
      { requestId: randomUUID(), commonName: 'good.x' },
    ]);
    expect(bad?.current).toBeUndefined();
    expect(bad?.unreadable).toMatchObject({ code: 'RECORD_UNREADABLE', commonName: 'bad.x', serialNumber: 'ab' });
    expect(fine).toEqual({ marker: undefined, current: good });
  });

  it('stores a certificate whose PEM exceeds 64 KiB (a long chain) so that Inventory reads it back unchanged', async () => {
    const leaf = longLeafPem();
    expect(leaf.length).toBeGreaterThan(65_536);
    const record = certificateRecord({ commonName: 'long.x', certificatePem: leaf, chainPem: [leaf, certificateRecord().issuingCaPem] });
    expect(await store.commit([storeWrite(record, null)])).toEqual([true]);
    expect(await inventory.get('long.x')).toEqual(record);
    expect((await inventory.list({ limit: 10 })).items).toEqual([record]);
    expect((await store.lookup([{ requestId: randomUUID(), commonName: 'long.x' }]))[0]?.current).toEqual(record);
  });

  it('refuses a batch holding a record that readers would refuse, writing nothing of it', async () => {
    const good = certificateRecord({ commonName: 'ok.x' });
    const bad = certificateRecord({ commonName: 'huge.x', certificatePem: 'A'.repeat(MAX_CERTIFICATE_PEM_CHARS + 1) });
    await expect(store.commit([storeWrite(good, null), storeWrite(bad, null)])).rejects.toMatchObject({
      code: 'RECORD_INVALID',
      message: expect.stringContaining('huge.x: certificatePem'),
    });
    expect(await inventory.size()).toBe(0);
    expect(await announced()).toEqual([]);
  });

  it('stores names and issuer ids of any characters the schema allows, with the request marker readers parse', async () => {
    const record = certificateRecord({ commonName: 'caf\u00e9-\u00fcber.x', issuerId: 'vault issuer 7' });
    const id = randomUUID();
    expect(await store.commit([storeWrite(record, null, [id])])).toEqual([true]);
    expect(await inventory.get(record.commonName)).toEqual(record);
    expect(await db.redis.get(store.keys.request(id))).toBe(requestMarker(record.commonName, record.serialNumber));
    expect((await store.lookup([{ requestId: id, commonName: record.commonName }]))[0]?.marker).toEqual({ serialNumber: record.serialNumber, commonName: record.commonName });
  });

  it('refuses a store write whose expected serial is not a serial number, writing nothing of the batch', async () => {
    const good = certificateRecord({ commonName: 'ok.x' });
    const odd = certificateRecord({ commonName: 'odd.x' });
    await expect(store.commit([storeWrite(good, null), storeWrite(odd, 'ab cd')])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('odd.x') });
    expect(await inventory.size()).toBe(0);
    expect(await announced()).toEqual([]);
  });

  it('stores a batch of several CA sets and issuers so that each record reads back with its own', async () => {
    const otherCa = '-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n';
    const records = [
      certificateRecord({ commonName: 'one.x' }),
      certificateRecord({ commonName: 'two.x', issuingCaPem: otherCa, trustedCasPem: [otherCa], issuerId: 'cd'.repeat(32) }),
      certificateRecord({ commonName: 'three.x', issuerId: 'cd'.repeat(32) }),
      certificateRecord({ commonName: 'four.x' }),
    ];
    expect(await store.commit(records.map((r) => storeWrite(r, null)))).toEqual([true, true, true, true]);
    for (const r of records) expect(await inventory.get(r.commonName)).toEqual(r);
    const fresh = new Inventory(db.redis, { prefix: PREFIX });
    for (const r of records) expect(await fresh.get(r.commonName)).toEqual(r);
  });

  it('sends a CA entry it has seen stored only by its digest, and stores it again when Redis lost it', async () => {
    const first = certificateRecord({ commonName: 'ca-1.x' });
    expect(await store.commit([storeWrite(first, null)])).toEqual([true]);
    const caKeys = await db.redis.keys(`${PREFIX}:inv:ca:*`);
    expect(caKeys).toHaveLength(1);
    const caEntry = await db.redis.get(caKeys[0] ?? '');
    expect(caEntry?.length ?? 0).toBeGreaterThan(100);
    // The next batch of the same CA set sends the entry's digest, not its content: what a store
    // that has not seen it stored sends for a batch of the same shape, less the entry.
    const inputBytes = async (): Promise<number> => Number(/total_net_input_bytes:(\d+)/.exec(await db.redis.info('stats'))?.[1]);
    const sentBy = async (by: IssueBatchStore, commonName: string): Promise<number> => {
      const before = await inputBytes();
      expect(await by.commit([storeWrite(certificateRecord({ commonName }), null, [randomUUID()])])).toEqual([true]);
      return (await inputBytes()) - before;
    };
    const byThisStore = await sentBy(store, 'ca-2.x');
    const byAFreshStore = await sentBy(new IssueBatchStore(db.redis, { prefix: PREFIX }), 'ca-4.x');
    expect(byAFreshStore - byThisStore).toBeGreaterThanOrEqual(caEntry?.length ?? 0);
    // A flushed entry (a restored or flushed Redis) is stored again; no record is left without it.
    await db.redis.del(...caKeys);
    const third = certificateRecord({ commonName: 'ca-3.x' });
    expect(await store.commit([storeWrite(third, null)])).toEqual([true]);
    expect(await db.redis.get(caKeys[0] ?? '')).toBe(caEntry);
    expect(await new Inventory(db.redis, { prefix: PREFIX }).get('ca-3.x')).toEqual(third);
  });

  it('keeps working after Redis forgot its scripts', async () => {
    await db.redis.script('FLUSH');
    const record = certificateRecord({ commonName: 'g.x' });
    expect(await store.commit([storeWrite(record, null)])).toEqual([true]);
    await db.redis.script('FLUSH');
    expect((await store.lookup([{ requestId: randomUUID(), commonName: 'g.x' }]))[0]?.current).toEqual(record);
  });
});
