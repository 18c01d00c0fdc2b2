// JSON representations of inventory records, shaped by the contract's response schemas.
import type { Certificate, TrustBundle } from '@fsm-certs/api';
import { openPrivateKey, type CertificateRecord, type KeyEncryptionKey, type TrustBundleRecord } from '@fsm-certs/queue';
import { GatewayError } from './errors.js';

/** The JSON bodies, as the contract (@fsm-certs/api) defines them. */
export type CertificateResponse = Certificate;

/** Decrypts the sealed server-generated key. The only synchronous crypto on the request path. */
export function openKey(kek: KeyEncryptionKey, record: CertificateRecord): string | undefined {
  if (record.encryptedPrivateKey === undefined) return undefined;
  try {
    return openPrivateKey(kek, record.encryptedPrivateKey, record.commonName, record.serialNumber);
  } catch (error) {
    throw new GatewayError(
      'INTERNAL',
      'The stored private key could not be opened; an operator must check that the gateway and the ca-service use the same key-encryption key.',
      { cause: error },
    );
  }
}

export function certificateResponse(record: CertificateRecord, privateKeyPem?: string): CertificateResponse {
  const body: CertificateResponse = {
    commonName: record.commonName,
    serialNumber: record.serialNumber,
    certificate: record.certificatePem,
    chain: record.chainPem,
    issuingCA: record.issuingCaPem,
    trustedCAs: record.trustedCasPem,
    notBefore: record.notBefore,
    notAfter: record.notAfter,
    renewAt: record.renewAt,
    keyAlgorithm: record.keyAlgorithm,
    mode: record.mode,
    dnsNames: record.dnsNames,
    uris: record.uris,
    ipAddresses: record.ipAddresses,
  };
  if (privateKeyPem !== undefined) body.privateKey = privateKeyPem;
  if (record.warnings.length > 0) body.warnings = record.warnings;
  return body;
}

export function trustBundleResponse(bundle: TrustBundleRecord): TrustBundle {
  return {
    issuingCA: bundle.issuingCaPem,
    trustedCAs: bundle.trustedCasPem,
    rootNotAfter: bundle.rootNotAfter,
    updatedAt: bundle.updatedAt,
  };
}

/** The PEM form of /v1/ca: every root a workload should trust, concatenated. */
export function trustBundlePem(bundle: TrustBundleRecord): string {
  return bundle.trustedCasPem.map((pem) => (pem.endsWith('\n') ? pem : `${pem}\n`)).join('');
}
