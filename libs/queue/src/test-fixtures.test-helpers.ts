// Shared fixtures for this lib's tests (excluded from the build by tsconfig.json).
import { randomBytes, randomUUID } from 'node:crypto';
import { createRootCa, issueLeaf } from '@fsm-certs/x509';
import type { CertificateRecord } from './contracts/certificate-record.js';
import type { IssueItem } from './contracts/issue-job.js';

export function serial(): string {
  return randomBytes(8).toString('hex').replace(/^0+/, '') || '1';
}

export function issueItem(overrides: Partial<IssueItem> = {}): IssueItem {
  return {
    requestId: randomUUID(),
    commonName: 'bookstore-v1.bookstore.cluster.local',
    dnsNames: [],
    uris: [],
    ipAddresses: [],
    validityMs: 24 * 3600 * 1000,
    keyAlgorithm: 'ecdsa-p256',
    reason: 'request',
    ...overrides,
  };
}

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

export function certificateRecord(overrides: Partial<CertificateRecord> = {}): CertificateRecord {
  const now = Date.parse('2030-01-01T00:00:00.000Z');
  return {
    commonName: 'bookstore-v1.bookstore.cluster.local',
    serialNumber: serial(),
    notBefore: new Date(now).toISOString(),
    notAfter: new Date(now + 24 * 3600 * 1000).toISOString(),
    renewAt: new Date(now + 16 * 3600 * 1000).toISOString(),
    certificatePem: PEM,
    chainPem: [],
    issuingCaPem: PEM,
    trustedCasPem: [PEM],
    issuerId: 'ab'.repeat(32),
    provider: 'tresor',
    keyAlgorithm: 'ecdsa-p256',
    mode: 'server-key',
    dnsNames: ['bookstore-v1.bookstore.cluster.local'],
    uris: [],
    ipAddresses: [],
    validityMs: 24 * 3600 * 1000,
    issuedAt: new Date(now).toISOString(),
    warnings: [],
    ...overrides,
  };
}

/**
 * A real leaf whose PEM is longer than 64 KiB: 60 URI SANs of 1.5 kB, as an issue item may carry
 * (up to 100 of 2 kB).
 */
export function longLeafPem(): string {
  const ca = createRootCa();
  const uris = Array.from({ length: 60 }, (_, i) => `https://long.example/${String(i).padStart(2, '0')}/${'p'.repeat(1_480)}`);
  return issueLeaf(ca.issuer, { commonName: 'long.x', uris, validityMs: 24 * 3600 * 1000 }).certificatePem;
}
