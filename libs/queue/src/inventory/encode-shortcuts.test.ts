// The writer's shortcuts change no byte of what is stored: a record encoded with the DER and
// sealed key its writer already held is the record encoded from its text, and an announcement
// encoded after plain checks is the one the event schema's check gives (or refuses).
import { describe, expect, it } from 'vitest';
import { createRootCa, fingerprintSha256, issueLeaf } from '@fsm-certs/x509';
import { certificateRecordSchema, type CertificateRecord } from '../contracts/certificate-record.js';
import type { IssuedEvent, RotatedEvent } from '../contracts/events.js';
import { generateKek, openPrivateKey, sealPrivateKeyDer } from '../crypto/key-envelope.js';
import { encodeEvent } from '../events/event-stream.js';
import { decodeRecord, encodeRecord } from './record-codec.js';
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
