// Record formats: the compact one round-trips, is what a deployment at this version writes, and
// costs less memory; every form an earlier version wrote stays readable; a record of a format
// this version does not know is reported as unreadable, never a crash of the page around it.
import { describe, expect, it } from 'vitest';
import { createRootCa, fingerprintSha256, issueLeaf } from '@fsm-certs/x509';
import { certificateRecordSchema, type CertificateRecord } from '../contracts/certificate-record.js';
import { generateKek, openPrivateKey, sealPrivateKey } from '../crypto/key-envelope.js';
import { keyspace } from '../keys.js';
import { certificateRecord, serial } from '../test-fixtures.test-helpers.js';
import { Inventory } from './inventory.js';
import { IssueBatchStore } from './issue-batch-store.js';
import { encodeCa, encodeRecord, UnreadableRecordError } from './record-codec.js';
import { z85Decode, z85Encode } from './compact-record.js';
import { trustBundleDigest } from './trust-bundle-digest.js';
import { usePrivateRedis } from '../testing.test-helpers.js';

const db = usePrivateRedis({ flush: 'each' });
const PREFIX = '{format-test}';
const keys = keyspace(PREFIX);

const root = createRootCa();
const intermediate = createRootCa({ commonName: 'second.example' });
const kek = generateKek().kek;

/** A record as the ca-service builds it: a real leaf, its key sealed, real CA PEMs. */
function realRecord(commonName: string, overrides: Partial<CertificateRecord> = {}, der = true): CertificateRecord {
  const leaf = issueLeaf(root.issuer, { commonName, dnsNames: [commonName, `alt.${commonName}`], ipAddresses: ['10.0.0.7'], validityMs: 24 * 3600 * 1000 });
  const serialNumber = leaf.serialNumber;
  return certificateRecordSchema.parse({
    ...certificateRecord({ commonName, serialNumber }),
    notBefore: leaf.notBefore.toISOString(),
    notAfter: leaf.notAfter.toISOString(),
    certificatePem: leaf.certificatePem,
    issuingCaPem: root.certificatePem,
    trustedCasPem: [root.certificatePem],
    dnsNames: leaf.dnsNames,
    ipAddresses: ['10.0.0.7'],
    encryptedPrivateKey: sealPrivateKey(kek, leaf.privateKeyPem ?? '', commonName, serialNumber, { der }),
    ...overrides,
  });
}

describe('inventory record formats', () => {
  it('writes compact records by default that read back exactly, key included, in ~60% of the full JSON', async () => {
    const inventory = new Inventory(db.redis, { prefix: PREFIX });
    const record = realRecord('compact.ns.cluster.local', { issuerId: fingerprintSha256(root.certificatePem) });
    await inventory.put(record);
    expect(await inventory.get(record.commonName)).toEqual(record);

    const stored = await db.redis.hget(keys.cert(record.commonName), 'record');
    const compact = JSON.parse(stored ?? '{}') as Record<string, unknown>;
    expect(compact['v']).toBe(2);
    // Nothing the hash or the CA entry holds is repeated: no name, serial, PEM armour or CA PEMs.
    expect(stored).not.toContain(`"${record.commonName}"`);
    expect(stored).not.toContain(record.serialNumber);
    expect(stored).not.toContain(record.issuerId);
    expect(stored).not.toContain('BEGIN CERTIFICATE');
    const full = encodeRecord(record, 'full').json;
    expect((stored ?? '').length).toBeLessThan(full.length * 0.6);

    const back = await inventory.get(record.commonName);
    expect(openPrivateKey(kek, back?.encryptedPrivateKey ?? '', record.commonName, record.serialNumber)).toContain('BEGIN PRIVATE KEY');
  });

  it('round-trips what the compact form cannot shorten: other PEM line breaks, non-canonical dates, chains, CSRs, warnings, a CN not among the DNS names', async () => {
    const inventory = new Inventory(db.redis, { prefix: PREFIX });
    const base = realRecord('odd.ns.cluster.local', {}, false);
    const odd: CertificateRecord = {
      ...base,
      certificatePem: base.certificatePem.replace(/\n/g, '\r\n'),
      chainPem: [intermediate.certificatePem, intermediate.certificatePem.trimEnd()],
      notBefore: '2030-01-01T00:00:00Z',
      dnsNames: ['other.ns.cluster.local'],
      uris: ['spiffe://cluster.local/ns/a/sa/b'],
      mode: 'csr',
      csrPem: '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n',
      warnings: ['w1'],
    };
    const parsed = certificateRecordSchema.safeParse(odd);
    expect(parsed.success).toBe(true);
    await inventory.put(odd);
    expect(await inventory.get(odd.commonName)).toEqual(odd);

    const empty = { ...certificateRecord({ commonName: 'empty.ns.cluster.local' }), dnsNames: [] };
    await inventory.put(empty);
    expect(await inventory.get(empty.commonName)).toEqual(empty);
  });

  it('full format writes the JSON every older version reads: the record schema itself parses it', async () => {
    const store = new IssueBatchStore(db.redis, { prefix: PREFIX, recordFormat: 'full' });
    const record = realRecord('full.ns.cluster.local', {}, false);
    const event = { version: 1 as const, kind: 'issued' as const, at: record.issuedAt, commonName: record.commonName, serialNumber: record.serialNumber, notAfter: record.notAfter };
    expect(await store.commit([{ kind: 'store', record, expectSerial: null, requestIds: [], event }])).toEqual([true]);
    const stored = JSON.parse((await db.redis.hget(keys.cert(record.commonName), 'record')) ?? '{}') as unknown;
    expect(certificateRecordSchema.parse(stored)).toEqual(record);
    expect(await new Inventory(db.redis, { prefix: PREFIX }).get(record.commonName)).toEqual(record);
  });

  it('reads the forms earlier versions wrote: CA PEMs inline, and CA PEMs by reference', async () => {
    const inventory = new Inventory(db.redis, { prefix: PREFIX });
    const inline = realRecord('inline.ns.cluster.local', {}, false);
    await db.redis.hset(keys.cert(inline.commonName), 'record', JSON.stringify(inline), 'serial', inline.serialNumber);
    expect(await inventory.get(inline.commonName)).toEqual(inline);

    const byRef = realRecord('byref.ns.cluster.local', {}, false);
    const { issuingCaPem, trustedCasPem, ...rest } = byRef;
    const ca = encodeCa({ issuingCaPem, trustedCasPem });
    await db.redis.set(keys.caEntry(ca.digest), ca.json);
    await db.redis.hset(keys.cert(byRef.commonName), 'record', JSON.stringify(rest), 'serial', byRef.serialNumber, 'ca', ca.digest, 'previousSerial', 'abcd');
    expect(await inventory.get(byRef.commonName)).toEqual({ ...byRef, previousSerialNumber: 'abcd' });
  });

  it('reports a record of an unknown format, or a compact one without its serial, as unreadable; the list goes on', async () => {
    const inventory = new Inventory(db.redis, { prefix: PREFIX });
    const good = realRecord('good.ns.cluster.local');
    await inventory.put(good);
    await db.redis.hset(keys.cert('future.ns.cluster.local'), 'record', '{"v":3}', 'serial', 'abc1');
    await db.redis.hset(keys.cert('noserial.ns.cluster.local'), 'record', encodeRecord(good).json);
    await db.redis.zadd(keys.names, 0, 'future.ns.cluster.local', 0, 'noserial.ns.cluster.local');

    await expect(inventory.get('future.ns.cluster.local')).rejects.toThrow(/record format 3/);
    await expect(inventory.get('noserial.ns.cluster.local')).rejects.toBeInstanceOf(UnreadableRecordError);
    const page = await inventory.list({ limit: 10 });
    expect(page.items.map((r) => r.commonName)).toEqual([good.commonName]);
    expect(page.unreadable.map((e) => [e.commonName, e.serialNumber])).toEqual([
      ['future.ns.cluster.local', 'abc1'],
      ['noserial.ns.cluster.local', undefined],
    ]);
  });

  it('leaves() gives the name, serial, issuer and notAfter list() decodes, for every format, and skips what does not read', async () => {
    const records = [
      realRecord('l1.ns.cluster.local', { issuerId: fingerprintSha256(root.certificatePem) }),
      realRecord('l2.ns.cluster.local'),
      { ...realRecord('l3.ns.cluster.local', {}, false), notAfter: '2031-01-01T00:00:00Z' },
    ];
    await new Inventory(db.redis, { prefix: PREFIX }).put(records[0] as CertificateRecord);
    await new Inventory(db.redis, { prefix: PREFIX }).put(records[1] as CertificateRecord);
    await new Inventory(db.redis, { prefix: PREFIX, recordFormat: 'full' }).put(records[2] as CertificateRecord);
    await db.redis.hset(keys.cert('l4.ns.cluster.local'), 'record', '{"v":2,"b":"soon"', 'serial', 'abc1');
    await db.redis.zadd(keys.names, 0, 'l4.ns.cluster.local');
    const inventory = new Inventory(db.redis, { prefix: PREFIX });
    const listed = (await inventory.list({ limit: 10 })).items.map((r) => ({ commonName: r.commonName, serialNumber: r.serialNumber, issuerId: r.issuerId, notAfterMs: Date.parse(r.notAfter) }));
    expect(listed).toHaveLength(3);
    const first = await inventory.leaves({ limit: 2 });
    const rest = await inventory.leaves({ limit: 2, cursor: first.nextCursor ?? '' });
    expect([...first.items, ...rest.items]).toEqual(listed);
    expect(rest.nextCursor).toBeUndefined();
  });

  it('names each CA set by its own digest, also when sets alternate (the digest is remembered, never confused)', () => {
    const a = { issuingCaPem: root.certificatePem, trustedCasPem: [root.certificatePem] };
    const b = { issuingCaPem: intermediate.certificatePem, trustedCasPem: [root.certificatePem, intermediate.certificatePem] };
    for (const set of [a, b, a, a, b, { ...a, trustedCasPem: [root.certificatePem, intermediate.certificatePem] }]) {
      expect(encodeCa(set).digest).toBe(trustBundleDigest(set.issuingCaPem, set.trustedCasPem));
    }
  });

  it('Z85 encodes as RFC 32 does and gives back every length of bytes; anything else is refused', () => {
    expect(z85Encode(Buffer.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]))).toBe('0HelloWorld');
    for (let n = 0; n < 12; n += 1) {
      const bytes = Buffer.from(Array.from({ length: n }, (_, i) => (i * 97 + 255) % 256));
      expect(z85Decode(z85Encode(bytes))).toEqual(bytes);
    }
    for (const bad of ['', '4HelloWorld', '0Hell', '0Hel"oWorld', '0#####']) expect(z85Decode(bad)).toBeUndefined();
  });

  it('compact records cost less Redis memory per certificate than full ones', async () => {
    const count = 200;
    const template = realRecord('template.ns.cluster.local');
    const usage = async (format: 'compact' | 'full'): Promise<number> => {
      await db.redis.flushall();
      const store = new IssueBatchStore(db.redis, { prefix: PREFIX, recordFormat: format });
      const writes = Array.from({ length: count }, (_, i) => {
        const commonName = `n${i}.ns.cluster.local`;
        const record = { ...template, commonName, serialNumber: serial(), dnsNames: [commonName] };
        const event = { version: 1 as const, kind: 'issued' as const, at: record.issuedAt, commonName, serialNumber: record.serialNumber, notAfter: record.notAfter };
        return { kind: 'store' as const, record, expectSerial: null, requestIds: [], event };
      });
      await store.commit(writes);
      let total = 0;
      for (let i = 0; i < count; i += 1) total += (await db.redis.memory('USAGE', keys.cert(`n${i}.ns.cluster.local`))) ?? 0;
      return total / count;
    };
    const full = await usage('full');
    const compact = await usage('compact');
    expect(compact).toBeLessThan(full - 1000);
  });
});
