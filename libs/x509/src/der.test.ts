import { describe, expect, it } from 'vitest';
import { content, decodeOid, decodeTime, readRoot } from './der/reader.js';
import { encodeOid, octetString, time, unsignedInteger } from './der/writer.js';
import { openssl, TempDir } from './openssl.test-helpers.js';

describe('DER writer', () => {
  it.each([
    [0, '0400'],
    [127, '047f'],
    [128, '048180'],
    [255, '0481ff'],
    [256, '04820100'],
    [65_535, '0482ffff'],
    [65_536, '0483010000'],
  ])('a %i-byte value gets the minimal (long form past 127) length header', (size, head) => {
    const der = octetString(Buffer.alloc(size, 0x41));
    expect(der.subarray(0, head.length / 2).toString('hex')).toBe(head);
    expect(content(der, readRoot(der)).length).toBe(size);
  });

  it.each([
    ['zero', '00', '020100'],
    ['a small value', '05', '020105'],
    ['a value with the high bit set (needs 0x00)', '80', '02020080'],
    ['leading zero bytes (dropped)', '000001', '020101'],
    ['leading zeros before a high bit (one 0x00 kept)', '0000ff', '020200ff'],
  ])('encodes INTEGER %s minimally', (_name, magnitude, expected) => {
    expect(unsignedInteger(Buffer.from(magnitude, 'hex')).toString('hex')).toBe(expected);
  });

  it.each([
    ['1999 as UTCTime', '1999-12-31T23:59:59Z', '170d3939313233313233353935395a'],
    ['2049 as UTCTime', '2049-12-31T23:59:59Z', '170d3439313233313233353935395a'],
    ['2050 as GeneralizedTime', '2050-01-01T00:00:00Z', '180f32303530303130313030303030305a'],
  ])('encodes %s', (_name, iso, hex) => {
    const der = time(new Date(iso));
    expect(der.toString('hex')).toBe(hex);
    expect(decodeTime(der, readRoot(der), 'time').toISOString()).toBe(new Date(iso).toISOString());
  });

  it('encodes OIDs that openssl names correctly', () => {
    for (const [oid, name] of [['1.2.840.10045.4.3.2', 'ecdsa-with-SHA256'], ['2.5.29.17', 'X509v3 Subject Alternative Name'], ['1.3.6.1.5.5.7.3.2', 'TLS Web Client Authentication']] as const) {
      const der = encodeOid(oid);
      expect(decodeOid(content(der, readRoot(der)))).toBe(oid);
      const temp = new TempDir();
      const parsed = openssl(['asn1parse', '-inform', 'DER', '-in', temp.write('oid.der', der)]);
      temp.remove();
      expect(parsed.stdout).toContain(name);
    }
  });
});
