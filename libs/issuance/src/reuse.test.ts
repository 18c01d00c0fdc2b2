import type { CertificateRecord } from '@fsm-certs/queue';
import { describe, expect, it } from 'vitest';
import { sameParameters } from './reuse.js';
import { item } from './test-support.test-helpers.js';

const CN = 'bookstore-v1.bookstore.cluster.local';
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function record(dnsNames: string[]): CertificateRecord {
  return {
    commonName: CN, serialNumber: '1a2b', notBefore: '2030-01-01T00:00:00.000Z', notAfter: '2030-01-02T00:00:00.000Z',
    renewAt: '2030-01-01T16:00:00.000Z', certificatePem: PEM, chainPem: [], issuingCaPem: PEM, trustedCasPem: [PEM],
    issuerId: 'ab'.repeat(32), provider: 'tresor', keyAlgorithm: 'ecdsa-p256', mode: 'server-key', dnsNames, uris: [],
    ipAddresses: [], validityMs: 24 * 3600_000, issuedAt: '2030-01-01T00:00:00.000Z', warnings: [],
  };
}

describe('a stored certificate answers a request for the same DNS names', () => {
  it.each([
    ['the record lists the certificate\'s SANs (CN first), the request only the extra names', [CN, 'bookstore-v1'], ['bookstore-v1'], true],
    ['a record written before records listed the CN', ['bookstore-v1'], ['bookstore-v1'], true],
    ['the request repeats the CN among its names', [CN], [CN], true],
    ['names differing only in case', [CN, 'Bookstore-V1'], ['bookstore-v1'], true],
    ['the request asks for a name the certificate lacks', [CN], ['bookstore-v1'], false],
    ['the certificate carries a name the request no longer asks for', [CN, 'bookstore-v1'], [], false],
  ] as const)('%s', (_name, stored, requested, same) => {
    expect(sameParameters(record([...stored]), item(CN, { dnsNames: [...requested] }))).toBe(same);
  });
});
