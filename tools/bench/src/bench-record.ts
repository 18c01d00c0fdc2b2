// A certificate record as the ca-service stores one for a Tresor P-256 server-key leaf: the one
// shape the benches that store, encode or read records build their records from.
import type { CertificateRecord } from '@fsm-certs/queue';
import type { IssuedLeaf } from '@fsm-certs/x509';

export const DAY_MS = 86_400_000;

/** What varies between the benches' records; the rest is what Tresor writes for a server key. */
export interface BenchRecordFields {
  readonly commonName: string;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly renewAt: Date;
  readonly certificatePem: string;
  /** The issuing CA, also the one trusted root. */
  readonly caPem: string;
  readonly issuerId: string;
  /** A sealed key's text (sealPrivateKey / sealPrivateKeyDer). */
  readonly encryptedPrivateKey: string;
  readonly issuedAt: Date;
}

export function serverKeyRecord(f: BenchRecordFields): CertificateRecord {
  return {
    commonName: f.commonName,
    serialNumber: f.serialNumber,
    notBefore: f.notBefore.toISOString(),
    notAfter: f.notAfter.toISOString(),
    renewAt: f.renewAt.toISOString(),
    certificatePem: f.certificatePem,
    chainPem: [],
    issuingCaPem: f.caPem,
    trustedCasPem: [f.caPem],
    issuerId: f.issuerId,
    provider: 'tresor',
    keyAlgorithm: 'ecdsa-p256',
    mode: 'server-key',
    dnsNames: [f.commonName],
    uris: [],
    ipAddresses: [],
    validityMs: DAY_MS,
    encryptedPrivateKey: f.encryptedPrivateKey,
    issuedAt: f.issuedAt.toISOString(),
    warnings: [],
  };
}

/** The record of an issued leaf, due for renewal two thirds into its day. */
export function leafRecord(
  leaf: Pick<IssuedLeaf, 'serialNumber' | 'notBefore' | 'notAfter' | 'certificatePem'>,
  f: Pick<BenchRecordFields, 'commonName' | 'caPem' | 'issuerId' | 'encryptedPrivateKey' | 'issuedAt'>,
): CertificateRecord {
  return serverKeyRecord({
    ...f,
    serialNumber: leaf.serialNumber,
    notBefore: leaf.notBefore,
    notAfter: leaf.notAfter,
    renewAt: new Date(leaf.notBefore.getTime() + (2 * DAY_MS) / 3),
    certificatePem: leaf.certificatePem,
  });
}
