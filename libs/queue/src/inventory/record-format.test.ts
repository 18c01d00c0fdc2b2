// Record formats: the binary one (format 3) round-trips, is what a deployment at this version
// writes, and costs less memory than the compact one (format 2), which costs less than the full
// JSON; every form an earlier version wrote stays readable; a record of a format this version
// does not know, or a damaged one, is reported as unreadable, never a crash of the page around it.
import { describe, expect, it } from 'vitest';
import { createRootCa, fingerprintSha256, issueLeaf } from '@fsm-certs/x509';
import { certificateRecordSchema, type CertificateRecord } from '../contracts/certificate-record.js';
import { generateKek, openPrivateKey, sealPrivateKey } from '../crypto/key-envelope.js';
import { keyspace } from '../keys.js';
import { certificateRecord, serial } from '../test-fixtures.test-helpers.js';
import { Inventory } from './inventory.js';
import { IssueBatchStore } from './issue-batch-store.js';
import { decodeRecord, encodeCa, encodeRecord, fieldsOf, shortCaDigest, UnreadableRecordError } from './record-codec.js';
import { z85Decode, z85Encode, type RecordFormat } from './compact-record.js';
import { trustBundleDigest } from './trust-bundle-digest.js';
import { usePrivateRedis } from '../testing.test-helpers.js';

const db = usePrivateRedis({ flush: 'each' });
const PREFIX = '{format-test}';
const keys = keyspace(PREFIX);

const root = createRootCa();
const intermediate = createRootCa({ commonName: 'second.example' });
const kek = generateKek().kek;
const pemDer = (pem: string): Buffer => Buffer.from(pem.split('\n').slice(1, -2).join(''), 'base64');

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
  it('writes binary records by default that read back exactly, key included, in bytes that repeat nothing the hash or CA entry holds', async () => {
    const inventory = new Inventory(db.redis, { prefix: PREFIX });
    const record = realRecord('binary.ns.cluster.local', { issuerId: fingerprintSha256(root.certificatePem) });
    await inventory.put(record);
    expect(await inventory.get(record.commonName)).toEqual(record);

    const stored = (await db.redis.hgetBuffer(keys.cert(record.commonName), 'record')) ?? Buffer.alloc(0);
    expect(stored[0]).toBe(3);
    // The leaf's DER as it is (no text encoding of it); around it neither name, serial, issuer id, PEM armour nor CA.
    const der = pemDer(record.certificatePem);
    const at = stored.indexOf(der);
    expect(at).toBeGreaterThan(0);
    const rest = Buffer.concat([stored.subarray(0, at), stored.subarray(at + der.length)]);
    for (const absent of [record.serialNumber, record.issuerId, 'BEGIN']) expect(rest.includes(absent)).toBe(false);
    // The name itself is no field (`alt.<name>`, the other DNS name, is).
    expect(rest.includes(Buffer.concat([Buffer.from([record.commonName.length]), Buffer.from(record.commonName)]))).toBe(false);
    expect(stored.includes(pemDer(root.certificatePem))).toBe(false);
    // The CA entry is named by its short digest.
    const ca = (await db.redis.hget(keys.cert(record.commonName), 'ca')) ?? '';
    expect(ca).toBe(shortCaDigest(trustBundleDigest(root.certificatePem, [root.certificatePem])));
    expect(ca).toHaveLength(20);
    const compact = String(encodeRecord(record, 'compact').value);
    expect(stored.length).toBeLessThan(compact.length - 200);

    const back = await inventory.get(record.commonName);
    expect(openPrivateKey(kek, back?.encryptedPrivateKey ?? '', record.commonName, record.serialNumber)).toContain('BEGIN PRIVATE KEY');
  });

  it('compact format still writes the format-2 JSON of the versions since it, which reads back exactly', async () => {
    const inventory = new Inventory(db.redis, { prefix: PREFIX, recordFormat: 'compact' });
    const record = realRecord('compact.ns.cluster.local', { issuerId: fingerprintSha256(root.certificatePem) });
    await inventory.put(record);
    const stored = await db.redis.hget(keys.cert(record.commonName), 'record');
    const compact = JSON.parse(stored ?? '{}') as Record<string, unknown>;
    expect(compact['v']).toBe(2);
    expect(stored).not.toContain(`"${record.commonName}"`);
    expect(stored).not.toContain(record.serialNumber);
    expect(stored).not.toContain('BEGIN CERTIFICATE');
    // An older reader looks its CA entry up by the full digest.
    expect(await db.redis.hget(keys.cert(record.commonName), 'ca')).toBe(trustBundleDigest(root.certificatePem, [root.certificatePem]));
    expect((stored ?? '').length).toBeLessThan(String(encodeRecord(record, 'full').value).length * 0.6);
    expect(await new Inventory(db.redis, { prefix: PREFIX }).get(record.commonName)).toEqual(record);
  });

  it.each<RecordFormat>(['binary', 'compact'])('%s format round-trips what it cannot shorten: other PEM line breaks, non-canonical dates, chains, CSRs, warnings, a CN not among the DNS names', async (format) => {
    const inventory = new Inventory(db.redis, { prefix: PREFIX, recordFormat: format });
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

    // Dates before 1970 and far ahead, a provider and key of another kind, a v1 key envelope, a DER chain.
    const other: CertificateRecord = {
      ...realRecord('other.ns.cluster.local', { provider: 'vault', keyAlgorithm: 'rsa-2048', issuerId: 'f'.repeat(64) }, false),
      notBefore: '1969-12-31T23:59:59.999Z',
      renewAt: '2400-02-29T12:00:00.001Z',
      chainPem: [intermediate.certificatePem],
      uris: ['spiffe://cluster.local/ns/ünïcode/sa/b'],
    };
    await inventory.put(other);
    expect(await inventory.get(other.commonName)).toEqual(other);
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
    await db.redis.hset(keys.cert('noserial.ns.cluster.local'), 'record', encodeRecord(good, 'compact').value);
    await db.redis.zadd(keys.names, 0, 'future.ns.cluster.local', 0, 'noserial.ns.cluster.local');
    const bytes = encodeRecord(good).value;
    if (!Buffer.isBuffer(bytes)) throw new Error('the default format writes bytes');
    const damaged: Array<[string, Buffer]> = [
      ['cut.ns.cluster.local', bytes.subarray(0, bytes.length - 7)],
      ['newtag.ns.cluster.local', Buffer.concat([bytes, Buffer.from([99, 1, 0])])],
      ['twice.ns.cluster.local', Buffer.concat([bytes, bytes.subarray(1, 20)])],
      ['nokey.ns.cluster.local', Buffer.from([3])],
    ];
    for (const [name, value] of damaged) {
      await db.redis.hset(keys.cert(name), 'record', value, 'serial', good.serialNumber, 'ca', (await db.redis.hget(keys.cert(good.commonName), 'ca')) ?? '');
      await db.redis.zadd(keys.names, 0, name);
      await expect(inventory.get(name)).rejects.toBeInstanceOf(UnreadableRecordError);
    }

    await expect(inventory.get('future.ns.cluster.local')).rejects.toThrow(/record format 3/);
    await expect(inventory.get('noserial.ns.cluster.local')).rejects.toBeInstanceOf(UnreadableRecordError);
    const page = await inventory.list({ limit: 10 });
    expect(page.items.map((r) => r.commonName)).toEqual([good.commonName]);
    expect(page.unreadable.map((e) => [e.commonName, e.serialNumber])).toEqual([
      ['cut.ns.cluster.local', good.serialNumber],
      ['future.ns.cluster.local', 'abc1'],
      ['newtag.ns.cluster.local', good.serialNumber],
      ['nokey.ns.cluster.local', good.serialNumber],
      ['noserial.ns.cluster.local', undefined],
      ['twice.ns.cluster.local', good.serialNumber],
    ]);
  });

  it('refuses to decode a binary record that was read as text: its bytes may have been changed by the decoding', () => {
    const record = realRecord('text.ns.cluster.local');
    const { value, ca } = encodeRecord(record);
    const pems = { issuingCaPem: record.issuingCaPem, trustedCasPem: record.trustedCasPem };
    const caOf = (digest: string): typeof pems | undefined => (digest === ca.digest ? pems : undefined);
    expect(decodeRecord(record.commonName, fieldsOf([value, null, record.serialNumber, ca.digest]), caOf)).toEqual(record);
    expect(() => decodeRecord(record.commonName, fieldsOf([value.toString('utf8'), null, record.serialNumber, ca.digest]), caOf)).toThrow(/read as text/);
  });

  it('leaves() gives the name, serial, issuer and notAfter list() decodes, for every format, and skips what does not read', async () => {
    const records = [
      realRecord('l1.ns.cluster.local', { issuerId: fingerprintSha256(root.certificatePem) }),
      realRecord('l2.ns.cluster.local'),
      { ...realRecord('l3.ns.cluster.local', {}, false), notAfter: '2031-01-01T00:00:00Z' },
    ];
    await new Inventory(db.redis, { prefix: PREFIX }).put(records[0] as CertificateRecord);
    await new Inventory(db.redis, { prefix: PREFIX, recordFormat: 'compact' }).put(records[1] as CertificateRecord);
    await new Inventory(db.redis, { prefix: PREFIX, recordFormat: 'full' }).put(records[2] as CertificateRecord);
    await new Inventory(db.redis, { prefix: PREFIX }).put(realRecord('l0.ns.cluster.local', { notAfter: '2032-01-01T00:00:00.000Z' }));
    await db.redis.hset(keys.cert('l4.ns.cluster.local'), 'record', '{"v":2,"b":"soon"', 'serial', 'abc1');
    await db.redis.zadd(keys.names, 0, 'l4.ns.cluster.local');
    const inventory = new Inventory(db.redis, { prefix: PREFIX });
    const listed = (await inventory.list({ limit: 10 })).items.map((r) => ({ commonName: r.commonName, serialNumber: r.serialNumber, issuerId: r.issuerId, notAfterMs: Date.parse(r.notAfter) }));
    expect(listed).toHaveLength(4);
    const first = await inventory.leaves({ limit: 3 });
    const rest = await inventory.leaves({ limit: 3, cursor: first.nextCursor ?? '' });
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

  it('binary records cost less Redis memory per certificate than compact ones, and compact less than full', async () => {
    const count = 200;
    const template = realRecord('template.ns.cluster.local');
    const usage = async (format: RecordFormat): Promise<number> => {
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
    const binary = await usage('binary');
    expect(compact).toBeLessThan(full - 1000);
    // A smaller allocation for the record (768 bytes instead of 1,024) and for the CA reference.
    expect(binary).toBeLessThan(compact - 250);
  });
});
