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

/**
 * The JSON text of CA certificates, kept per PEM: every answer carries the same few CA PEMs
 * (issuing CA, chain, trusted roots), and escaping them again for each answer was most of the
 * work of writing it. Bounded: a CA change adds a few entries; past the bound it starts afresh.
 */
const CA_JSON_LIMIT = 32;
const caJson = new Map<string, string>();

function caPemJson(pem: string): string {
  let text = caJson.get(pem);
  if (text === undefined) {
    text = JSON.stringify(pem);
    if (caJson.size >= CA_JSON_LIMIT) caJson.clear();
    caJson.set(pem, text);
  }
  return text;
}

function stringArrayJson(values: readonly string[], item: (value: string) => string): string {
  let out = '[';
  for (let i = 0; i < values.length; i++) out += (i === 0 ? '' : ',') + item(values[i] ?? '');
  return `${out}]`;
}

function isStringArray(value: unknown): value is readonly string[] {
  if (!Array.isArray(value)) return false;
  for (const item of value) if (typeof item !== 'string') return false;
  return true;
}

/**
 * JSON.stringify(certificateResponse(record, privateKeyPem)), byte for byte, written out with the
 * CA PEMs' JSON taken from caPemJson. A record with a field of any other type than the contract's
 * (which JSON.stringify would write differently) is written by JSON.stringify itself.
 */
export function certificateResponseJson(record: CertificateRecord, privateKeyPem?: string): string {
  const { chainPem, trustedCasPem, dnsNames, uris, ipAddresses, warnings } = record;
  const scalars = [record.commonName, record.serialNumber, record.certificatePem, record.issuingCaPem, record.notBefore, record.notAfter, record.renewAt, record.keyAlgorithm, record.mode];
  if (
    scalars.some((value) => typeof value !== 'string') ||
    !isStringArray(chainPem) ||
    !isStringArray(trustedCasPem) ||
    !isStringArray(dnsNames) ||
    !isStringArray(uris) ||
    !isStringArray(ipAddresses) ||
    !isStringArray(warnings)
  ) {
    return JSON.stringify(certificateResponse(record, privateKeyPem));
  }
  const json = JSON.stringify;
  let out =
    `{"commonName":${json(record.commonName)},"serialNumber":${json(record.serialNumber)},"certificate":${json(record.certificatePem)}` +
    `,"chain":${stringArrayJson(chainPem, caPemJson)},"issuingCA":${caPemJson(record.issuingCaPem)},"trustedCAs":${stringArrayJson(trustedCasPem, caPemJson)}` +
    `,"notBefore":${json(record.notBefore)},"notAfter":${json(record.notAfter)},"renewAt":${json(record.renewAt)}` +
    `,"keyAlgorithm":${json(record.keyAlgorithm)},"mode":${json(record.mode)}` +
    `,"dnsNames":${stringArrayJson(dnsNames, json)},"uris":${stringArrayJson(uris, json)},"ipAddresses":${stringArrayJson(ipAddresses, json)}`;
  if (privateKeyPem !== undefined) out += `,"privateKey":${json(privateKeyPem)}`;
  if (warnings.length > 0) out += `,"warnings":${stringArrayJson(warnings, json)}`;
  return `${out}}`;
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
