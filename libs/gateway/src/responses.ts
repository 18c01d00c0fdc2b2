// JSON representations of inventory records. Kept small: PEMs only where the caller needs them
// (single certificate), summaries in lists.
import { openPrivateKey, type CertificateRecord, type KeyEncryptionKey, type TrustBundleRecord } from '@fsm-certs/queue';
import { GatewayError } from './errors.js';

export interface CertificateResponse {
  commonName: string;
  serialNumber: string;
  certificate: string;
  /** Intermediates between the leaf and the root (leaf excluded); empty when the root signs directly. */
  chain: string[];
  issuingCA: string;
  trustedCAs: string[];
  notBefore: string;
  notAfter: string;
  renewAt: string;
  keyAlgorithm: string;
  mode: string;
  dnsNames: string[];
  uris: string[];
  ipAddresses: string[];
  privateKey?: string;
  warnings?: string[];
}

export interface CertificateSummary {
  commonName: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  renewAt: string;
  keyAlgorithm: string;
  mode: string;
  provider: string;
}

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

export function certificateSummary(record: CertificateRecord): CertificateSummary {
  return {
    commonName: record.commonName,
    serialNumber: record.serialNumber,
    notBefore: record.notBefore,
    notAfter: record.notAfter,
    renewAt: record.renewAt,
    keyAlgorithm: record.keyAlgorithm,
    mode: record.mode,
    provider: record.provider,
  };
}

export function trustBundleResponse(bundle: TrustBundleRecord): Record<string, unknown> {
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
