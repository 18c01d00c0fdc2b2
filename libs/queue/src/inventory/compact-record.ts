// Record format 2 ("compact"): what a stored record costs in Redis memory is mostly its JSON, and
// a million of them are the inventory. The compact JSON leaves out what the hash already holds
// (the common name is the key, the serial its own field, the CA PEMs a shared entry), stores the
// leaf certificate as its DER in Z85 (the PEM is rebuilt on read), dates as milliseconds, the
// issuer id (the CA entry's fingerprint), defaults and empty lists not at all, short field names. Anything that would not
// come back byte for byte (a PEM with unusual line breaks, a date not in canonical ISO form) is
// stored as it is, under its own field, so a round trip never changes a record.
//
// Readers of this version decode both formats; older versions do not know this one, so it is
// written only when the deployment says every replica reads it (INVENTORY_RECORD_FORMAT).
import { DEFAULT_KEY_ALGORITHM } from '@fsm-certs/core';
import type { CertificateRecord } from '../contracts/certificate-record.js';

/** The record formats a writer can be told to use (INVENTORY_RECORD_FORMAT). */
export const RECORD_FORMATS = ['binary', 'compact', 'full'] as const;
export type RecordFormat = (typeof RECORD_FORMATS)[number];
/**
 * `binary` (format 3, binary-record.ts) is read by this version and later only; `compact`
 * (format 2) also by the versions since format 2; `full` (the record JSON with its CA PEMs in
 * it) by every version, for a rolling upgrade from an older one.
 */
export const DEFAULT_RECORD_FORMAT: RecordFormat = 'binary';

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

// Z85 (ZeroMQ RFC 32): 5 characters per 4 bytes against base64's 5.33, and none of them needs
// escaping in JSON. A certificate's DER is stored this way, prefixed by its padding count (0-3).
const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
const Z85_CODES = Uint8Array.from(Z85, (c) => c.charCodeAt(0));
const Z85_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < Z85.length; i += 1) Z85_INDEX[Z85.charCodeAt(i)] = i;

export function z85Encode(bytes: Buffer): string {
  const pad = (4 - (bytes.length % 4)) % 4;
  const padded = pad === 0 ? bytes : Buffer.concat([bytes, Buffer.alloc(pad)]);
  // Written as ASCII bytes into one buffer: no string is built per group.
  const out = Buffer.allocUnsafe(1 + (padded.length / 4) * 5);
  out[0] = 48 + pad;
  for (let i = 0, o = 1; i < padded.length; i += 4, o += 5) {
    let value = padded.readUInt32BE(i);
    for (let j = 4; j >= 0; j -= 1) {
      out[o + j] = Z85_CODES[value % 85] ?? 0;
      value = Math.floor(value / 85);
    }
  }
  return out.toString('latin1');
}

/** The bytes of z85Encode's output, or undefined when it is not that. */
export function z85Decode(text: string): Buffer | undefined {
  const pad = text.charCodeAt(0) - 48;
  if (pad < 0 || pad > 3 || (text.length - 1) % 5 !== 0) return undefined;
  const out = Buffer.allocUnsafe(((text.length - 1) / 5) * 4);
  for (let i = 1, o = 0; i < text.length; i += 5, o += 4) {
    let value = 0;
    for (let j = 0; j < 5; j += 1) {
      const digit = Z85_INDEX[text.charCodeAt(i + j)] ?? -1;
      if (digit < 0) return undefined;
      value = value * 85 + digit;
    }
    if (value > 0xffffffff) return undefined;
    out.writeUInt32BE(value, o);
  }
  return pad > out.length ? undefined : out.subarray(0, out.length - pad);
}

/** A date as milliseconds after `baseMs` when its ISO form comes back exactly, else the text. */
function dateOut(iso: string, baseMs: number): number | string {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) && new Date(ms).toISOString() === iso ? ms - baseMs : iso;
}

function dateIn(value: unknown, baseMs: number): unknown {
  return typeof value === 'number' ? new Date(baseMs + value).toISOString() : value;
}

/**
 * The compact JSON of a (validated) record, without its common name, serial, previous serial and
 * CA PEMs: the hash and the CA entry hold those.
 */
export function encodeCompact(record: CertificateRecord, caIssuerId: string | undefined): string {
  const out: Record<string, unknown> = { v: COMPACT_VERSION };
  const cert = certificateBodyOf(record.certificatePem);
  const der = cert === undefined ? undefined : Buffer.from(cert, 'base64');
  if (der !== undefined && der.toString('base64') === cert) out['c'] = z85Encode(der);
  else out['C'] = record.certificatePem;
  if (record.chainPem.length > 0) {
    const bodies = record.chainPem.map(certificateBodyOf);
    if (bodies.every((b): b is string => b !== undefined)) out['h'] = bodies;
    else out['H'] = record.chainPem;
  }
  // The other dates as offsets from notBefore: a few digits instead of thirteen.
  const baseMs = Date.parse(record.notBefore);
  out['b'] = dateOut(record.notBefore, 0);
  out['a'] = dateOut(record.notAfter, baseMs);
  out['r'] = dateOut(record.renewAt, baseMs);
  out['t'] = dateOut(record.issuedAt, baseMs);
  // The issuer id is the issuing CA's fingerprint, which the CA entry gives on read.
  if (record.issuerId !== caIssuerId) out['i'] = record.issuerId;
  if (record.provider !== 'tresor') out['p'] = record.provider;
  if (record.keyAlgorithm !== DEFAULT_KEY_ALGORITHM) out['k'] = record.keyAlgorithm;
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
export function expandCompact(
  raw: Record<string, unknown>,
  commonName: string,
  serialNumber: string | undefined,
  caIssuerId: () => string | undefined,
): Record<string, unknown> {
  const der = typeof raw['c'] === 'string' ? z85Decode(raw['c']) : undefined;
  const certificatePem = der !== undefined ? certificatePemOf(der.toString('base64')) : raw['C'];
  const notBefore = typeof raw['b'] === 'number' ? new Date(raw['b']).toISOString() : raw['b'];
  const baseMs = typeof notBefore === 'string' ? Date.parse(notBefore) : Number.NaN;
  const chainPem = raw['h'] !== undefined ? strings(raw['h']).map((b) => (typeof b === 'string' ? certificatePemOf(b) : b)) : list(raw['H']);
  const dnsNames = raw['D'] !== undefined ? raw['D'] : [commonName, ...strings(raw['d'])];
  const out: Record<string, unknown> = {
    commonName,
    serialNumber,
    notBefore,
    notAfter: dateIn(raw['a'], baseMs),
    renewAt: dateIn(raw['r'], baseMs),
    certificatePem,
    chainPem,
    issuerId: raw['i'] ?? caIssuerId(),
    provider: raw['p'] ?? 'tresor',
    keyAlgorithm: raw['k'] ?? DEFAULT_KEY_ALGORITHM,
    mode: raw['m'] ?? 'server-key',
    dnsNames,
    uris: list(raw['u']),
    ipAddresses: list(raw['n']),
    validityMs: raw['l'],
    issuedAt: dateIn(raw['t'], baseMs),
    warnings: list(raw['w']),
  };
  if (raw['q'] !== undefined) out['csrPem'] = raw['q'];
  if (raw['e'] !== undefined) out['encryptedPrivateKey'] = raw['e'];
  return out;
}
