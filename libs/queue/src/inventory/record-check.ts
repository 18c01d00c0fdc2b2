// Whether a record certainly passes certificateRecordSchema, decided without running the whole
// object schema: for a P-256 leaf that pass cost about as much as the rest of encoding the record.
// A writer builds records from typed values, so the common case is checked field by field, with
// the schema's own field schemas for its patterns and plain checks for the rest; anything unusual
// (a date not in toISOString's form, an unknown key, a wrong type) answers false, and the caller
// then lets the full schema decide and word the error. True only where the schema says yes.
// The gateway uses it too, for the records of a job result (compact ones: the CA PEMs left out).
import { FIELD_LIMITS, SERIAL_NUMBER_PATTERN } from '@fsm-certs/api';
import { MAX_CERTIFICATE_PEM_CHARS, certificateRecordSchema, type CertificateRecord } from '../contracts/certificate-record.js';
import { MAX_PEM_CHARS, PLAIN_COMMON_NAME } from '../contracts/common.js';
import { canonicalIsoMs } from './iso-date.js';

const shape = certificateRecordSchema.shape;
const KNOWN_KEYS: ReadonlySet<string> = new Set(Object.keys(shape));
const PROVIDERS: ReadonlySet<unknown> = new Set(shape.provider.options);
const KEY_ALGORITHMS: ReadonlySet<unknown> = new Set(shape.keyAlgorithm.options);
const MODES: ReadonlySet<unknown> = new Set(shape.mode.options);

// Subsets of what the field schemas accept, tested first because a zod pass per field was ~1.4 KB
// of garbage per record; a value outside a subset still goes to its schema, which decides.
function commonName(value: unknown): boolean {
  return (typeof value === 'string' && value.length >= 1 && value.length <= FIELD_LIMITS.dnsName && PLAIN_COMMON_NAME.test(value)) || shape.commonName.safeParse(value).success;
}

function serial(value: unknown, schema: { safeParse(value: unknown): { success: boolean } }): boolean {
  return (typeof value === 'string' && SERIAL_NUMBER_PATTERN.test(value)) || schema.safeParse(value).success;
}

function csrPem(value: unknown): boolean {
  return (typeof value === 'string' && value.length >= 1 && value.length <= MAX_PEM_CHARS) || shape.csrPem.safeParse(value).success;
}

function sealedKey(value: unknown): boolean {
  return (typeof value === 'string' && (value.startsWith('v2.') || value.startsWith('v1.'))) || shape.encryptedPrivateKey.safeParse(value).success;
}

function pem(value: unknown): boolean {
  return typeof value === 'string' && value.length >= 1 && value.length <= MAX_CERTIFICATE_PEM_CHARS;
}

function pems(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (const item of value) if (!pem(item)) return false;
  return true;
}

function strings(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (const item of value) if (typeof item !== 'string') return false;
  return true;
}

export interface PlainRecordOptions {
  /** A compact record (compactCertificateRecordSchema): issuingCaPem and trustedCasPem may be absent. */
  readonly caPemsOptional?: boolean;
}

/** A record's four dates in epoch ms, as its check read them from its text (canonical ISO dates). */
export interface RecordTimes {
  notBeforeMs: number;
  notAfterMs: number;
  renewAtMs: number;
  issuedAtMs: number;
}

/**
 * True only for a record certificateRecordSchema (compactCertificateRecordSchema with
 * caPemsOptional) accepts and returns unchanged; false says nothing. When true, the four dates it
 * read are written into `times`, if given, so a writer that encodes the record need not parse
 * them again (written in place: no object per record).
 */
export function plainlyValidRecord(value: unknown, options: PlainRecordOptions = {}, times?: RecordTimes): boolean {
  if (typeof value !== 'object' || value === null) return false;
  for (const key in value) if (Object.hasOwn(value, key) && !KNOWN_KEYS.has(key)) return false;
  const record = value as CertificateRecord;
  const caPemsOptional = options.caPemsOptional === true;
  if (!commonName(record.commonName) || !serial(record.serialNumber, shape.serialNumber)) return false;
  const notBeforeMs = canonicalIsoMs(record.notBefore);
  const notAfterMs = canonicalIsoMs(record.notAfter);
  const renewAtMs = canonicalIsoMs(record.renewAt);
  const issuedAtMs = canonicalIsoMs(record.issuedAt);
  if (notBeforeMs === undefined || notAfterMs === undefined || renewAtMs === undefined || issuedAtMs === undefined) return false;
  const plain =
    pem(record.certificatePem) &&
    pems(record.chainPem) &&
    ((caPemsOptional && record.issuingCaPem === undefined) || pem(record.issuingCaPem)) &&
    ((caPemsOptional && record.trustedCasPem === undefined) || pems(record.trustedCasPem)) &&
    typeof record.issuerId === 'string' &&
    record.issuerId.length >= 1 &&
    PROVIDERS.has(record.provider) &&
    KEY_ALGORITHMS.has(record.keyAlgorithm) &&
    MODES.has(record.mode) &&
    strings(record.dnsNames) &&
    strings(record.uris) &&
    strings(record.ipAddresses) &&
    strings(record.warnings) &&
    Number.isSafeInteger(record.validityMs) &&
    record.validityMs > 0 &&
    (record.csrPem === undefined || csrPem(record.csrPem)) &&
    (record.encryptedPrivateKey === undefined || sealedKey(record.encryptedPrivateKey)) &&
    (record.previousSerialNumber === undefined || serial(record.previousSerialNumber, shape.previousSerialNumber));
  if (plain && times !== undefined) {
    times.notBeforeMs = notBeforeMs;
    times.notAfterMs = notAfterMs;
    times.renewAtMs = renewAtMs;
    times.issuedAtMs = issuedAtMs;
  }
  return plain;
}
