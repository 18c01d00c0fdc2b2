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
 * The UTF-8 JSON of CA certificates, kept per PEM: every answer carries the same few CA PEMs
 * (issuing CA, chain, trusted roots), and escaping and encoding them again for each answer was
 * most of the work of writing it. Bounded: a CA change adds a few entries; past the bound it
 * starts afresh.
 */
const CA_JSON_LIMIT = 32;
const caJson = new Map<string, Buffer>();

function caPemJson(pem: string): Buffer {
  let bytes = caJson.get(pem);
  if (bytes === undefined) {
    bytes = Buffer.from(JSON.stringify(pem), 'utf8');
    if (caJson.size >= CA_JSON_LIMIT) caJson.clear();
    caJson.set(pem, bytes);
  }
  return bytes;
}

function stringArrayJson(values: readonly string[]): string {
  let out = '[';
  for (let i = 0; i < values.length; i++) out += (i === 0 ? '' : ',') + JSON.stringify(values[i] ?? '');
  return `${out}]`;
}

function isStringArray(value: unknown): value is readonly string[] {
  if (!Array.isArray(value)) return false;
  for (const item of value) if (typeof item !== 'string') return false;
  return true;
}

/** The answer's parts in order: text to encode, or CA JSON already encoded. */
type Part = string | Buffer;

function pushCaArray(parts: Part[], pems: readonly string[]): void {
  for (let i = 0; i < pems.length; i++) {
    if (i > 0) parts.push(',');
    parts.push(caPemJson(pems[i] ?? ''));
  }
}

/**
 * Buffer.from(JSON.stringify(certificateResponse(record, privateKeyPem))), byte for byte, as ONE
 * buffer: the CA PEMs' JSON is copied from caPemJson's bytes, the rest encoded once into place
 * (no string of the whole answer is built, flattened and encoded again on its way to the socket).
 * A record with a field of any other type than the contract's (which JSON.stringify would write
 * differently) is written by JSON.stringify itself.
 */
export function certificateResponseBody(record: CertificateRecord, privateKeyPem?: string): Buffer {
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
    return Buffer.from(JSON.stringify(certificateResponse(record, privateKeyPem)), 'utf8');
  }
  const json = JSON.stringify;
  const parts: Part[] = [`{"commonName":${json(record.commonName)},"serialNumber":${json(record.serialNumber)},"certificate":${json(record.certificatePem)},"chain":[`];
  pushCaArray(parts, chainPem);
  parts.push('],"issuingCA":', caPemJson(record.issuingCaPem), ',"trustedCAs":[');
  pushCaArray(parts, trustedCasPem);
  let tail =
    `],"notBefore":${json(record.notBefore)},"notAfter":${json(record.notAfter)},"renewAt":${json(record.renewAt)}` +
    `,"keyAlgorithm":${json(record.keyAlgorithm)},"mode":${json(record.mode)}` +
    `,"dnsNames":${stringArrayJson(dnsNames)},"uris":${stringArrayJson(uris)},"ipAddresses":${stringArrayJson(ipAddresses)}`;
  if (privateKeyPem !== undefined) tail += `,"privateKey":${json(privateKeyPem)}`;
  if (warnings.length > 0) tail += `,"warnings":${stringArrayJson(warnings)}`;
  parts.push(`${tail}}`);
  let length = 0;
  for (const part of parts) length += typeof part === 'string' ? Buffer.byteLength(part, 'utf8') : part.length;
  const body = Buffer.allocUnsafe(length);
  let offset = 0;
  for (const part of parts) offset += typeof part === 'string' ? body.write(part, offset, 'utf8') : part.copy(body, offset);
  // allocUnsafe's memory is not cleared: an answer must never carry bytes it did not write.
  if (offset !== length) throw new GatewayError('INTERNAL', 'The certificate answer could not be written; retry.');
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
