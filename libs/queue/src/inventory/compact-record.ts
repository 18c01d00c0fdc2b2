// Record format 2 ("compact"): what a stored record costs in Redis memory is mostly its JSON, and
// a million of them are the inventory. The compact JSON leaves out what the hash already holds
// (the common name is the key, the serial its own field, the CA PEMs a shared entry), stores the
// certificate PEMs as their base64 body (the armour and line breaks are rebuilt on read), dates as
// epoch milliseconds, empty lists not at all, and short field names. Anything that would not
// come back byte for byte (a PEM with unusual line breaks, a date not in canonical ISO form) is
// stored as it is, under its own field, so a round trip never changes a record.
//
// Readers of this version decode both formats; older versions do not know this one, so it is
// written only when the deployment says every replica reads it (INVENTORY_RECORD_FORMAT).
import type { CertificateRecord } from '../contracts/certificate-record.js';

/** The record formats a writer can be told to use (INVENTORY_RECORD_FORMAT). */
export const RECORD_FORMATS = ['compact', 'full'] as const;
export type RecordFormat = (typeof RECORD_FORMATS)[number];
/**
 * `compact` (format 2) is read by this version and later only; `full` (the record JSON with its
 * CA PEMs in it) by every version, for a rolling upgrade from an older one.
 */
export const DEFAULT_RECORD_FORMAT: RecordFormat = 'compact';

/** The value of the compact JSON's `v` field; a record without it is format 1. */
export const COMPACT_VERSION = 2;

const PEM_LINE = 64;
const CERT_BEGIN = '-----BEGIN CERTIFICATE-----\n';
const CERT_END = '-----END CERTIFICATE-----\n';

/** The PEM a base64 body stands for, as node:crypto and the x509 lib write it. */
export function certificatePemOf(body: string): string {
  let out = CERT_BEGIN;
  for (let i = 0; i < body.length; i += PEM_LINE) out += `${body.slice(i, i + PEM_LINE)}\n`;
  return out + CERT_END;
}

/** The base64 body of a certificate PEM, or undefined when the PEM would not be rebuilt exactly. */
export function certificateBodyOf(pem: string): string | undefined {
  if (!pem.startsWith(CERT_BEGIN) || !pem.endsWith(CERT_END)) return undefined;
  const body = pem.slice(CERT_BEGIN.length, pem.length - CERT_END.length).replace(/\n/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return undefined;
  return certificatePemOf(body) === pem ? body : undefined;
}

function dateOut(iso: string): number | string {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) && new Date(ms).toISOString() === iso ? ms : iso;
}

function dateIn(value: unknown): unknown {
  return typeof value === 'number' ? new Date(value).toISOString() : value;
}

/**
 * The compact JSON of a (validated) record, without its common name, serial, previous serial and
 * CA PEMs: the hash and the CA entry hold those.
 */
export function encodeCompact(record: CertificateRecord): string {
  const out: Record<string, unknown> = { v: COMPACT_VERSION };
  const cert = certificateBodyOf(record.certificatePem);
  if (cert !== undefined) out['c'] = cert;
  else out['C'] = record.certificatePem;
  if (record.chainPem.length > 0) {
    const bodies = record.chainPem.map(certificateBodyOf);
    if (bodies.every((b): b is string => b !== undefined)) out['h'] = bodies;
    else out['H'] = record.chainPem;
  }
  out['b'] = dateOut(record.notBefore);
  out['a'] = dateOut(record.notAfter);
  out['r'] = dateOut(record.renewAt);
  out['t'] = dateOut(record.issuedAt);
  out['i'] = record.issuerId;
  out['p'] = record.provider;
  out['k'] = record.keyAlgorithm;
  if (record.mode !== 'server-key') out['m'] = record.mode;
  // A certificate's DNS names lead with its common name; only the others are stored then.
  if (record.dnsNames[0] === record.commonName) {
    if (record.dnsNames.length > 1) out['d'] = record.dnsNames.slice(1);
  } else out['D'] = record.dnsNames;
  if (record.uris.length > 0) out['u'] = record.uris;
  if (record.ipAddresses.length > 0) out['n'] = record.ipAddresses;
  out['l'] = record.validityMs;
  if (record.csrPem !== undefined) out['q'] = record.csrPem;
  if (record.encryptedPrivateKey !== undefined) out['e'] = record.encryptedPrivateKey;
  if (record.warnings.length > 0) out['w'] = record.warnings;
  return JSON.stringify(out);
}

function list(value: unknown): unknown {
  return value === undefined ? [] : value;
}

function strings(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

/**
 * The record fields a compact JSON object stands for, for the schema to check (nothing here
 * trusts the input: a wrong type comes out as a wrong type and the schema names it).
 */
export function expandCompact(raw: Record<string, unknown>, commonName: string, serialNumber: string | undefined): Record<string, unknown> {
  const certificatePem = typeof raw['c'] === 'string' ? certificatePemOf(raw['c']) : raw['C'];
  const chainPem = raw['h'] !== undefined ? strings(raw['h']).map((b) => (typeof b === 'string' ? certificatePemOf(b) : b)) : list(raw['H']);
  const dnsNames = raw['D'] !== undefined ? raw['D'] : [commonName, ...strings(raw['d'])];
  const out: Record<string, unknown> = {
    commonName,
    serialNumber,
    notBefore: dateIn(raw['b']),
    notAfter: dateIn(raw['a']),
    renewAt: dateIn(raw['r']),
    certificatePem,
    chainPem,
    issuerId: raw['i'],
    provider: raw['p'],
    keyAlgorithm: raw['k'],
    mode: raw['m'] ?? 'server-key',
    dnsNames,
    uris: list(raw['u']),
    ipAddresses: list(raw['n']),
    validityMs: raw['l'],
    issuedAt: dateIn(raw['t']),
    warnings: list(raw['w']),
  };
  if (raw['q'] !== undefined) out['csrPem'] = raw['q'];
  if (raw['e'] !== undefined) out['encryptedPrivateKey'] = raw['e'];
  return out;
}
