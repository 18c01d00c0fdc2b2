// The writer's shortcuts change no byte of what is stored: a record encoded with the DER and
// sealed key its writer already held is the record encoded from its text, and an announcement
// encoded after plain checks is the one the event schema's check gives (or refuses).
import { describe, expect, it, vi } from 'vitest';
import { createRootCa, fingerprintSha256, issueLeaf } from '@fsm-certs/x509';
import { certificateRecordSchema, type CertificateRecord } from '../contracts/certificate-record.js';
import type { IssuedEvent, RotatedEvent } from '../contracts/events.js';
import { generateKek, openPrivateKey, sealPrivateKeyDer } from '../crypto/key-envelope.js';
import { encodeEvent } from '../events/event-stream.js';
import { decodeRecord, encodeRecord } from './record-codec.js';
import { plainlyValidRecord, type RecordTimes } from './record-check.js';
import { BinaryRecordError, binaryLeafFacts, encodeBinary, expandBinary } from './binary-record.js';
import { encodeStoredEvent } from './store-event.js';

const root = createRootCa();
const kek = generateKek().kek;
const DAY_MS = 24 * 3600 * 1000;

function issued(commonName: string): { record: CertificateRecord; certificateDer: Buffer; sealedKey: Buffer } {
  const leaf = issueLeaf(root.issuer, { commonName, dnsNames: [`alt.${commonName}`], validityMs: DAY_MS });
  const sealed = sealPrivateKeyDer(kek, leaf.privateKeyDer ?? Buffer.alloc(0), commonName, leaf.serialNumber);
  const record = certificateRecordSchema.parse({
    commonName,
    serialNumber: leaf.serialNumber,
    notBefore: leaf.notBefore.toISOString(),
    notAfter: leaf.notAfter.toISOString(),
    renewAt: new Date(leaf.notBefore.getTime() + DAY_MS / 2).toISOString(),
    certificatePem: leaf.certificatePem,
    chainPem: [],
    issuingCaPem: root.certificatePem,
    trustedCasPem: [root.certificatePem],
    issuerId: fingerprintSha256(root.certificatePem),
    provider: 'tresor',
    keyAlgorithm: 'ecdsa-p256',
    mode: 'server-key',
    dnsNames: leaf.dnsNames,
    uris: [],
    ipAddresses: [],
    validityMs: DAY_MS,
    encryptedPrivateKey: sealed.text,
    issuedAt: new Date().toISOString(),
    warnings: [],
  });
  return { record, certificateDer: leaf.certificateDer, sealedKey: sealed.bytes };
}

describe('encoding a record with the bytes its writer holds', () => {
  it('stores exactly the bytes encoding it from its text gives, and reads back the record with a key that opens', () => {
    const { record, certificateDer, sealedKey } = issued('hinted.ns.cluster.local');
    const plain = encodeRecord(record, 'binary');
    const hinted = encodeRecord(record, 'binary', { certificateDer, sealedKey });
    expect(Buffer.isBuffer(hinted.value) && hinted.value.equals(plain.value as Buffer)).toBe(true);
    const back = decodeRecord(record.commonName, { record: hinted.value, previousSerial: null, serial: record.serialNumber, ca: hinted.ca.digest }, () => record);
    expect(back).toEqual(record);
    expect(openPrivateKey(kek, back?.encryptedPrivateKey ?? '', record.commonName, record.serialNumber)).toContain('BEGIN PRIVATE KEY');
  });

  it('ignores bytes that cannot be what the text encodes (another size) and encodes from the text', () => {
    const { record } = issued('a.ns.cluster.local');
    const other = issued('a-much-longer-name-than-the-first.ns.cluster.local');
    const plain = encodeRecord(record, 'binary');
    const hinted = encodeRecord(record, 'binary', { certificateDer: other.certificateDer, sealedKey: other.sealedKey.subarray(0, 40) });
    expect((hinted.value as Buffer).equals(plain.value as Buffer)).toBe(true);
  });
});

describe('checking a record before it is stored', () => {
  const { record } = issued('checked.ns.cluster.local');
  const changed: Array<[string, Record<string, unknown>]> = [
    ['a common name with a slash', { commonName: 'a/b' }],
    ['an empty common name', { commonName: '' }],
    ['a serial in upper case', { serialNumber: 'ABC' }],
    ['a serial of 65 digits', { serialNumber: 'a'.repeat(65) }],
    ['a notBefore without milliseconds', { notBefore: '2026-11-30T10:00:00Z' }],
    ['a notAfter with an offset', { notAfter: '2026-11-30T10:00:00.000+01:00' }],
    ['a renewAt on the 30th of February', { renewAt: '2026-02-30T10:00:00.000Z' }],
    ['an issuedAt that is not a date', { issuedAt: 'now' }],
    ['an empty certificate PEM', { certificatePem: '' }],
    ['a chain entry that is not a string', { chainPem: [1] }],
    ['trusted CAs that are not a list', { trustedCasPem: root.certificatePem }],
    ['an empty issuer id', { issuerId: '' }],
    ['an unknown provider', { provider: 'acme' }],
    ['an unknown key algorithm', { keyAlgorithm: 'ed25519' }],
    ['an unknown mode', { mode: 'both' }],
    ['a DNS name that is not a string', { dnsNames: [null] }],
    ['a validity of 1.5 ms', { validityMs: 1.5 }],
    ['a validity of zero', { validityMs: 0 }],
    ['a validity past the safe integers', { validityMs: 2 ** 60 }],
    ['a key envelope of version 3', { encryptedPrivateKey: 'v3.a.b.c' }],
    ['a previous serial with colons', { previousSerialNumber: 'ab:cd' }],
    ['an empty CSR', { csrPem: '' }],
    ['a field the schema does not know', { extra: 1 }],
    ['dates of the years 100 and 9999', { notBefore: '0100-01-01T00:00:00.000Z', notAfter: '9999-12-31T23:59:59.999Z' }],
    ['a leap day', { renewAt: '2028-02-29T12:00:00.000Z' }],
    ['a common name in upper case', { commonName: 'Checked.NS.cluster.local' }],
    ['a common name with a letter outside ASCII', { commonName: 'caf\u00e9.ns.cluster.local' }],
    ['a common name with a tab', { commonName: 'a\tb' }],
    ['a common name with a no-break space', { commonName: 'a\u00a0b' }],
    ['a common name with a colon', { commonName: 'a:b' }],
    ['a common name of 253 characters', { commonName: 'a'.repeat(253) }],
    ['a common name of 254 characters', { commonName: 'a'.repeat(254) }],
    ['a common name that is not a string', { commonName: 7 }],
    ['a serial of 64 digits', { serialNumber: 'f'.repeat(64) }],
    ['an empty serial', { serialNumber: '' }],
    ['a serial that is a number', { serialNumber: 12 }],
    ['a key envelope of version 1', { encryptedPrivateKey: 'v1.abc' }],
    ['a key envelope without its dot', { encryptedPrivateKey: 'v2abc' }],
    ['a key envelope that is not a string', { encryptedPrivateKey: 2 }],
    ['a CSR of 64 KiB', { csrPem: 'c'.repeat(64 * 1024) }],
    ['a CSR over 64 KiB', { csrPem: 'c'.repeat(64 * 1024 + 1) }],
    ['a previous serial of 64 digits', { previousSerialNumber: '0'.repeat(64) }],
    ['a previous serial of 65 digits', { previousSerialNumber: '0'.repeat(65) }],
    ['a CSR and a previous serial', { csrPem: '-----BEGIN CERTIFICATE REQUEST-----\nAA==\n-----END CERTIFICATE REQUEST-----\n', previousSerialNumber: 'ab12' }],
  ];
  it('passes the record a writer builds without the schema', () => {
    expect(plainlyValidRecord(record)).toBe(true);
  });
  it('passes the record a writer builds without a zod pass of any of its fields', () => {
    const shape = certificateRecordSchema.shape;
    const spies = [certificateRecordSchema, shape.commonName, shape.serialNumber, shape.encryptedPrivateKey, shape.previousSerialNumber, shape.csrPem].map((schema) => vi.spyOn(schema, 'safeParse'));
    const withPrevious = { ...record, previousSerialNumber: 'ab12', csrPem: 'x' };
    expect(plainlyValidRecord(withPrevious)).toBe(true);
    encodeRecord(record);
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    vi.restoreAllMocks();
  });
  it.each(changed)('passes only what the schema accepts, and the record is stored exactly when the schema accepts it: %s', (_name, change) => {
    const candidate = { ...record, ...change } as CertificateRecord;
    const schemaAccepts = certificateRecordSchema.safeParse(candidate).success;
    if (plainlyValidRecord(candidate)) expect(schemaAccepts).toBe(true);
    if (schemaAccepts) expect(() => encodeRecord(candidate)).not.toThrow();
    else expect(() => encodeRecord(candidate)).toThrow(/^Refusing to store the certificate record/);
  });
});

describe("encoding a record with the dates its check read", () => {
  const { record } = issued('dated.ns.cluster.local');
  const issuerId = fingerprintSha256(root.certificatePem);
  // Dates where the encoder's choices differ: before 1970 (stored as text), year 100 (the parser's
  // slow path), a leap day, the last millisecond of 9999, offsets below notBefore (negative deltas).
  const cases: Array<[string, Partial<CertificateRecord>]> = [
    ['an everyday record', {}],
    ['a notBefore before 1970', { notBefore: '1969-12-31T23:59:59.999Z', renewAt: '1970-01-01T00:00:00.000Z' }],
    ['year 100', { notBefore: '0100-03-01T00:00:00.000Z', notAfter: '0100-03-02T00:00:00.000Z', issuedAt: '0100-02-28T23:59:59.000Z' }],
    ['a leap day', { notBefore: '2028-02-29T12:00:00.000Z', renewAt: '2028-02-29T23:59:59.999Z' }],
    ['the last millisecond of 9999', { notAfter: '9999-12-31T23:59:59.999Z', renewAt: '9999-12-31T23:59:59.998Z' }],
    ['dates before notBefore', { notAfter: '2000-01-01T00:00:00.000Z', renewAt: '2000-01-01T00:00:00.001Z', issuedAt: '1999-12-31T23:59:59.999Z' }],
  ];
  it.each(cases)('reads the dates the schema would and stores the bytes a parse of the text gives: %s', (_name, change) => {
    const candidate = { ...record, ...change };
    const times: RecordTimes = { notBeforeMs: 0, notAfterMs: 0, renewAtMs: 0, issuedAtMs: 0 };
    expect(plainlyValidRecord(candidate, {}, times)).toBe(true);
    expect(times).toEqual({
      notBeforeMs: Date.parse(candidate.notBefore),
      notAfterMs: Date.parse(candidate.notAfter),
      renewAtMs: Date.parse(candidate.renewAt),
      issuedAtMs: Date.parse(candidate.issuedAt),
    });
    const encoded = encodeRecord(candidate, 'binary');
    expect([encoded.renewAtMs, encoded.notAfterMs]).toEqual([times.renewAtMs, times.notAfterMs]);
    const fromText = encodeBinary(candidate, issuerId);
    expect((encoded.value as Buffer).equals(fromText)).toBe(true);
    expect(decodeRecord(candidate.commonName, { record: encoded.value, previousSerial: null, serial: candidate.serialNumber, ca: encoded.ca.digest }, () => record)).toEqual(candidate);
    expect(binaryLeafFacts(encoded.value as Buffer).notAfterMs).toBe(Date.parse(candidate.notAfter));
  });
  it("reads a numeric date up to the last time a Date holds, and refuses one past it, relative dates included", () => {
    const varint = (value: number): number[] => {
      const out: number[] = [];
      let v = value;
      for (; v >= 128; v = Math.floor(v / 128)) out.push((v % 128) + 128);
      return [...out, v];
    };
    const field = (tag: number, value: number): number[] => {
      const bytes = varint(value);
      return [tag, bytes.length, ...bytes];
    };
    // Tags: 1 notBefore (ms), 2 notAfter (zigzag offset from notBefore: 2n ahead, 2n - 1 behind).
    const value = (notBeforeMs: number, notAfterZigzag: number): Buffer => Buffer.from([3, ...field(1, notBeforeMs), ...field(2, notAfterZigzag)]);
    const pems = { issuingCaPem: root.certificatePem, trustedCasPem: [] };
    const dates = (bytes: Buffer): unknown => {
      const { notBefore, notAfter } = expandBinary(bytes, 'a.b', 'ab', pems, () => undefined);
      return [notBefore, notAfter, binaryLeafFacts(bytes).notAfterMs];
    };
    const last = 8.64e15;
    expect(dates(value(last, 1))).toEqual(['+275760-09-13T00:00:00.000Z', '+275760-09-12T23:59:59.999Z', last - 1]);
    expect(dates(value(last - 1, 2))).toEqual(['+275760-09-12T23:59:59.999Z', '+275760-09-13T00:00:00.000Z', last]);
    expect(() => dates(value(last + 1, 1))).toThrow(BinaryRecordError);
    expect(() => dates(value(last + 1, 1))).toThrow(/notBefore is out of range/);
    expect(() => dates(value(last, 2))).toThrow(/notAfter is out of range/);
  });
  it('leaves a record the schema decides without dates: they are read from the record where they are needed', () => {
    // Accepted by the schema's datetime, not in toISOString's form: not plainly valid.
    const candidate = { ...record, renewAt: '2030-01-01T00:00:00Z' };
    const times: RecordTimes = { notBeforeMs: 0, notAfterMs: 0, renewAtMs: 0, issuedAtMs: 0 };
    expect(plainlyValidRecord(candidate, {}, times)).toBe(false);
    expect(times.renewAtMs).toBe(0);
    expect(certificateRecordSchema.safeParse(candidate).success).toBe(true);
    const encoded = encodeRecord(candidate, 'binary');
    expect([encoded.renewAtMs, encoded.notAfterMs]).toEqual([undefined, undefined]);
    expect((encoded.value as Buffer).equals(encodeBinary(candidate, issuerId))).toBe(true);
  });
});

describe('encoding the announcement of a stored record', () => {
  const { record } = issued('announced.ns.cluster.local');
  const at = new Date().toISOString();
  const issuedEvent: IssuedEvent = { version: 1, kind: 'issued', at, commonName: record.commonName, serialNumber: record.serialNumber, notAfter: record.notAfter };
  const rotatedEvent: RotatedEvent = { ...issuedEvent, kind: 'rotated', previousSerialNumber: 'abc123', reason: 'rotate-scheduled' };
  const outcome = (fn: () => string): string => {
    try {
      return fn();
    } catch (error) {
      return `throws ${error instanceof Error ? error.message : String(error)}`;
    }
  };
  const cases: Array<[string, unknown]> = [
    ['an issued event', issuedEvent],
    ['a rotated event', rotatedEvent],
    ['an event with a field the schema does not know (dropped, as the schema drops it)', { ...issuedEvent, extra: 'x' }],
    ['a rotated event with an unknown reason', { ...rotatedEvent, reason: 'because' }],
    ['a rotated event whose previous serial is not lowercase hex', { ...rotatedEvent, previousSerialNumber: 'AB:CD' }],
    ['a rotated event without its previous serial', { ...rotatedEvent, previousSerialNumber: undefined }],
    ['an event whose time is not an ISO date', { ...issuedEvent, at: 'yesterday' }],
    ['an event whose time is ISO but not in toISOString form', { ...issuedEvent, at: '2026-11-30T10:00:00Z' }],
    ['an event of another version', { ...issuedEvent, version: 2 }],
    ['an event announcing another name', { ...issuedEvent, commonName: 'other.ns.cluster.local' }],
    ['an event of another kind', { version: 1, kind: 'released', at, commonName: record.commonName, serialNumber: record.serialNumber }],
  ];
  it.each(cases)('gives for %s what the schema-checked encoding gives', (_name, event) => {
    // The cases deliberately include values outside the event types.
    const typed = event as IssuedEvent;
    const expected = outcome(() => encodeEvent(typed));
    expect(outcome(() => encodeStoredEvent(typed, record))).toBe(expected);
  });
});
