// The issue answer's JSON is written out by hand (the CA PEMs' JSON kept per PEM); it must be
// what JSON.stringify makes of the contract's response object, byte for byte, for any record.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CertificateRecord } from '@fsm-certs/queue';
import { certificateResponse, certificateResponseJson } from './responses.js';

const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }), fc.constantFrom('"\\\n\u2028\ud800</script>', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'));
/** A few CA PEMs shared between records, as answers of one CA share them. */
const ca = fc.constantFrom('-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n', 'root "one"\n', '\u00e9\ud83d\ude00\u0000');
const texts = fc.array(text, { maxLength: 3 });

const recordArbitrary = fc.record({
  commonName: text,
  serialNumber: text,
  notBefore: text,
  notAfter: text,
  renewAt: text,
  certificatePem: text,
  chainPem: fc.array(fc.oneof(ca, text), { maxLength: 3 }),
  issuingCaPem: fc.oneof(ca, text),
  trustedCasPem: fc.array(fc.oneof(ca, text), { maxLength: 3 }),
  issuerId: text,
  provider: fc.constantFrom('tresor', 'vault', 'cert-manager'),
  keyAlgorithm: fc.constantFrom('ecdsa-p256', 'rsa-2048'),
  mode: fc.constantFrom('server-key', 'csr'),
  dnsNames: texts,
  uris: texts,
  ipAddresses: texts,
  validityMs: fc.integer({ min: 1 }),
  warnings: texts,
});

describe('certificateResponseJson', () => {
  it('writes exactly what JSON.stringify writes for the response object, with and without a key', () => {
    fc.assert(
      fc.property(recordArbitrary, fc.option(text, { nil: undefined }), (fields, key) => {
        const record = fields as CertificateRecord;
        expect(certificateResponseJson(record, key)).toBe(JSON.stringify(certificateResponse(record, key)));
      }),
      { numRuns: 2000 },
    );
  });

  it('is still JSON.stringify for a record whose fields are not of the contract types', () => {
    const base = fc.sample(recordArbitrary, 1)[0];
    for (const odd of [{ chainPem: undefined }, { dnsNames: [1] }, { notAfter: undefined }, { warnings: [2] }, { commonName: 7 }]) {
      const record = { ...base, ...odd } as unknown as CertificateRecord;
      expect(certificateResponseJson(record, 'k')).toBe(JSON.stringify(certificateResponse(record, 'k')));
    }
  });

  it('gives the same text for a CA PEM after more CA PEMs than it keeps have come and gone', () => {
    const record = fc.sample(recordArbitrary, 1)[0] as CertificateRecord;
    const first = certificateResponseJson(record);
    for (let i = 0; i < 100; i++) certificateResponseJson({ ...record, issuingCaPem: `ca ${i}`, trustedCasPem: [`root ${i}`] });
    expect(certificateResponseJson(record)).toBe(first);
  });
});
