// Record format 3 ("binary"): the record as bytes, not text. Redis strings are binary-safe, so
// nothing here pays for an encoding of bytes into characters: the leaf's DER and the sealed key's
// IV, tag and ciphertext are stored as they are (format 2 spends 25% more on the DER in Z85 and
// 33% more on the key in base64url), dates and lengths are varints, and there is no JSON to build
// or parse. For a P-256 server-key leaf that is ~740 bytes instead of ~990 characters, which moves
// the value from jemalloc's 1,024-byte size class to the 768-byte one.
//
// Layout: the byte 0x03 (a JSON format starts with '{'), then fields as <tag><length varint>
// <value>, each tag at most once. A reader refuses a tag it does not know, a repeated tag or a
// length past the end, so damage shows as an unreadable record, never as a wrong one. What would
// not come back byte for byte (a PEM with other line breaks, a date not in canonical ISO form, a
// key envelope not in canonical base64url) is kept as text under its own tag.
//
// Like format 2, it leaves out what the hash and the CA entry hold (name, serial, CA PEMs) and
// the values every record of a Tresor P-256 deployment shares.
import { DEFAULT_KEY_ALGORITHM } from '@fsm-certs/core';
import type { CertificateRecord } from '../contracts/certificate-record.js';
import { isoMs } from './iso-date.js';
import type { RecordTimes } from './record-check.js';

/** The first byte of a format-3 record. */
export const BINARY_FORMAT_BYTE = 0x03;

const T_NOT_BEFORE_MS = 1;
const T_NOT_AFTER_DELTA = 2;
const T_RENEW_AT_DELTA = 3;
const T_ISSUED_AT_DELTA = 4;
const T_VALIDITY_MS = 5;
const T_CERT_DER = 6;
const T_CHAIN_DER = 7;
const T_SEALED_KEY = 8;
const T_ISSUER_ID = 9;
const T_PROVIDER = 10;
const T_KEY_ALGORITHM = 11;
const T_MODE = 12;
const T_DNS_AFTER_CN = 13;
const T_DNS_NAMES = 14;
const T_URIS = 15;
const T_IPS = 16;
const T_WARNINGS = 17;
const T_CSR_PEM = 18;
const T_NOT_BEFORE_TEXT = 32;
const T_NOT_AFTER_TEXT = 33;
const T_RENEW_AT_TEXT = 34;
const T_ISSUED_AT_TEXT = 35;
const T_CERT_PEM = 36;
const T_CHAIN_PEM = 37;
const T_SEALED_KEY_TEXT = 38;
const MAX_TAG = 38;

/** A format-3 record that does not read; the message says why. */
export class BinaryRecordError extends Error {}

const CERT_BEGIN = '-----BEGIN CERTIFICATE-----\n';
const CERT_END = '-----END CERTIFICATE-----\n';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The PEM of a DER certificate, as node:crypto and the x509 lib write it (64-character lines). */
export function pemOfDer(der: Buffer): string {
  const body = der.toString('base64');
  let out = CERT_BEGIN;
  for (let i = 0; i < body.length; i += 64) out += `${body.slice(i, i + 64)}\n`;
  return out + CERT_END;
}

/** The DER of a certificate PEM, or undefined when pemOfDer would not give back exactly this PEM. */
export function derOfPem(pem: string): Buffer | undefined {
  if (!pem.startsWith(CERT_BEGIN) || !pem.endsWith(CERT_END)) return undefined;
  // Node's base64 decoder skips the line breaks; the comparison below is the exactness check.
  const der = Buffer.from(pem.slice(CERT_BEGIN.length, pem.length - CERT_END.length), 'base64');
  return der.length > 0 && pemOfDer(der) === pem ? der : undefined;
}

/** A `v1.`/`v2.` key envelope as bytes (version, IV, tag, ciphertext), when it comes back exactly. */
function sealedKeyBytes(sealed: string): Buffer | undefined {
  const parts = sealed.split('.');
  if (parts.length !== 4) return undefined;
  const [version, ivText, tagText, ctText] = parts;
  const v = version === 'v1' ? 1 : version === 'v2' ? 2 : 0;
  if (v === 0 || ivText === undefined || tagText === undefined || ctText === undefined) return undefined;
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  const ct = Buffer.from(ctText, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return undefined;
  if (iv.toString('base64url') !== ivText || tag.toString('base64url') !== tagText || ct.toString('base64url') !== ctText) return undefined;
  const out = Buffer.allocUnsafe(1 + IV_BYTES + TAG_BYTES + ct.length);
  out[0] = v;
  iv.copy(out, 1);
  tag.copy(out, 1 + IV_BYTES);
  ct.copy(out, 1 + IV_BYTES + TAG_BYTES);
  return out;
}

/**
 * What the writer of a record already holds as bytes, so encoding need not derive it from the
 * record's text again: the leaf's DER (what certificatePem encodes) and the key envelope as bytes
 * (what encryptedPrivateKey spells, in sealedKeyBytes' layout). A hint whose size does not fit its
 * text is not used; the text is then converted as without hints.
 */
export interface BinaryHints {
  readonly certificateDer?: Buffer;
  readonly sealedKey?: Buffer;
}

/** The length of pemOfDer's output for a DER of `bytes` bytes. */
function pemLengthOf(bytes: number): number {
  const body = 4 * Math.ceil(bytes / 3);
  return CERT_BEGIN.length + body + Math.ceil(body / 64) + CERT_END.length;
}

/** The length of a key envelope's text for its bytes (unpadded base64url of IV, tag, ciphertext). */
function sealedTextLengthOf(bytes: Buffer): number {
  const b64 = (n: number): number => Math.ceil((4 * n) / 3);
  return 2 + 1 + b64(IV_BYTES) + 1 + b64(TAG_BYTES) + 1 + b64(bytes.length - 1 - IV_BYTES - TAG_BYTES);
}

function hintedDer(pem: string, der: Buffer | undefined): Buffer | undefined {
  return der !== undefined && der.length > 0 && pem.length === pemLengthOf(der.length) && pem.startsWith(CERT_BEGIN) ? der : derOfPem(pem);
}

function hintedSealedKey(text: string, bytes: Buffer | undefined): Buffer | undefined {
  const fits = bytes !== undefined && bytes.length > 1 + IV_BYTES + TAG_BYTES && text.length === sealedTextLengthOf(bytes) && text.startsWith(`v${bytes[0] ?? 0}.`);
  return fits ? bytes : sealedKeyBytes(text);
}

function sealedKeyText(bytes: Buffer): string {
  const v = bytes[0];
  if ((v !== 1 && v !== 2) || bytes.length < 1 + IV_BYTES + TAG_BYTES) throw new BinaryRecordError('its sealed key field is malformed');
  const iv = bytes.subarray(1, 1 + IV_BYTES).toString('base64url');
  const tag = bytes.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES).toString('base64url');
  return `v${v}.${iv}.${tag}.${bytes.subarray(1 + IV_BYTES + TAG_BYTES).toString('base64url')}`;
}

// Varints: 7 bits a byte, low first (LEB128). Arithmetic, not bit operators: times in ms exceed 32 bits.
function varintLength(value: number): number {
  let n = 1;
  for (let v = value; v >= 128; v = Math.floor(v / 128)) n += 1;
  return n;
}

function zigzag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

function unzigzag(value: number): number {
  return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
}

/** One field: tag and payload (bytes, text, a number or a list of strings/bytes). */
type Value = Buffer | string | number | ReadonlyArray<string | Buffer>;

class Writer {
  private readonly fields: Array<{ tag: number; value: Value; length: number }> = [];
  private total = 1;

  add(tag: number, value: Value): void {
    let length: number;
    if (typeof value === 'number') length = varintLength(value);
    else if (typeof value === 'string') length = Buffer.byteLength(value, 'utf8');
    else if (Buffer.isBuffer(value)) length = value.length;
    else {
      length = 0;
      for (const item of value) {
        const n = typeof item === 'string' ? Buffer.byteLength(item, 'utf8') : item.length;
        length += varintLength(n) + n;
      }
    }
    this.fields.push({ tag, value, length });
    this.total += 1 + varintLength(length) + length;
  }

  /** One allocation of the exact size, filled in a single pass. */
  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.total);
    out[0] = BINARY_FORMAT_BYTE;
    let o = 1;
    const varint = (value: number): void => {
      let v = value;
      while (v >= 128) {
        out[o++] = (v % 128) + 128;
        v = Math.floor(v / 128);
      }
      out[o++] = v;
    };
    for (const { tag, value, length } of this.fields) {
      out[o++] = tag;
      varint(length);
      if (typeof value === 'number') varint(value);
      else if (typeof value === 'string') o += out.write(value, o, 'utf8');
      else if (Buffer.isBuffer(value)) o += value.copy(out, o);
      else {
        for (const item of value) {
          if (typeof item === 'string') {
            varint(Buffer.byteLength(item, 'utf8'));
            o += out.write(item, o, 'utf8');
          } else {
            varint(item.length);
            o += item.copy(out, o);
          }
        }
      }
    }
    return out;
  }
}

/** A date field: `ms` is isoMs(iso) (undefined when the text is not canonical). */
function addDate(w: Writer, numberTag: number, textTag: number, iso: string, ms: number | undefined, baseMs: number | undefined): void {
  if (ms === undefined) w.add(textTag, iso);
  else if (baseMs === undefined) {
    if (ms >= 0) w.add(numberTag, ms);
    else w.add(textTag, iso);
  } else w.add(numberTag, zigzag(ms - baseMs));
}

/**
 * The format-3 bytes of a (validated) record, without its common name, serial, previous serial
 * and CA PEMs: the hash and the CA entry hold those. `caIssuerId` is the issuing CA's fingerprint,
 * which a reader gets from the CA entry. `times` are this record's dates as its check read them
 * (plainlyValidRecord's `times`), so they are not parsed again; without them the dates are read here.
 */
export function encodeBinary(record: CertificateRecord, caIssuerId: string | undefined, hints: BinaryHints = {}, times?: RecordTimes): Buffer {
  const w = new Writer();
  const notBeforeMs = times === undefined ? isoMs(record.notBefore) : times.notBeforeMs;
  const base = notBeforeMs !== undefined && notBeforeMs >= 0 ? notBeforeMs : undefined;
  addDate(w, T_NOT_BEFORE_MS, T_NOT_BEFORE_TEXT, record.notBefore, notBeforeMs, undefined);
  // Dates after notBefore as offsets from it: a few bytes instead of six. Without a numeric
  // notBefore they are stored as text.
  const after = (numberTag: number, textTag: number, iso: string, ms: number | undefined): void => {
    if (base === undefined) w.add(textTag, iso);
    else addDate(w, numberTag, textTag, iso, times === undefined ? isoMs(iso) : ms, base);
  };
  after(T_NOT_AFTER_DELTA, T_NOT_AFTER_TEXT, record.notAfter, times?.notAfterMs);
  after(T_RENEW_AT_DELTA, T_RENEW_AT_TEXT, record.renewAt, times?.renewAtMs);
  after(T_ISSUED_AT_DELTA, T_ISSUED_AT_TEXT, record.issuedAt, times?.issuedAtMs);
  w.add(T_VALIDITY_MS, record.validityMs);
  const der = hintedDer(record.certificatePem, hints.certificateDer);
  if (der !== undefined) w.add(T_CERT_DER, der);
  else w.add(T_CERT_PEM, record.certificatePem);
  if (record.chainPem.length > 0) {
    const ders = record.chainPem.map(derOfPem);
    if (ders.every((d): d is Buffer => d !== undefined)) w.add(T_CHAIN_DER, ders);
    else w.add(T_CHAIN_PEM, record.chainPem);
  }
  if (record.encryptedPrivateKey !== undefined) {
    const key = hintedSealedKey(record.encryptedPrivateKey, hints.sealedKey);
    if (key !== undefined) w.add(T_SEALED_KEY, key);
    else w.add(T_SEALED_KEY_TEXT, record.encryptedPrivateKey);
  }
  if (record.issuerId !== caIssuerId) w.add(T_ISSUER_ID, record.issuerId);
  if (record.provider !== 'tresor') w.add(T_PROVIDER, record.provider);
  if (record.keyAlgorithm !== DEFAULT_KEY_ALGORITHM) w.add(T_KEY_ALGORITHM, record.keyAlgorithm);
  if (record.mode !== 'server-key') w.add(T_MODE, record.mode);
  // A certificate's DNS names lead with its common name; only the others are stored then.
  if (record.dnsNames[0] === record.commonName) {
    if (record.dnsNames.length > 1) w.add(T_DNS_AFTER_CN, record.dnsNames.slice(1));
  } else w.add(T_DNS_NAMES, record.dnsNames);
  if (record.uris.length > 0) w.add(T_URIS, record.uris);
  if (record.ipAddresses.length > 0) w.add(T_IPS, record.ipAddresses);
  if (record.warnings.length > 0) w.add(T_WARNINGS, record.warnings);
  if (record.csrPem !== undefined) w.add(T_CSR_PEM, record.csrPem);
  return w.finish();
}

/** The fields of a format-3 record by tag, as byte ranges of `bytes`; throws BinaryRecordError. */
function fieldsOfBinary(bytes: Buffer): Array<Buffer | undefined> {
  if (bytes[0] !== BINARY_FORMAT_BYTE) throw new BinaryRecordError('it is not a format-3 record');
  const fields = new Array<Buffer | undefined>(MAX_TAG + 1);
  let o = 1;
  while (o < bytes.length) {
    const tag = bytes[o++] ?? 0;
    if (tag === 0 || tag > MAX_TAG) throw new BinaryRecordError(`it has a field (tag ${tag}) this version does not read`);
    const [value, next] = readLengthPrefixed(bytes, o, 'it is truncated');
    if (fields[tag] !== undefined) throw new BinaryRecordError(`its field ${tag} is repeated`);
    fields[tag] = value;
    o = next;
  }
  return fields;
}

function readVarint(value: Buffer, what: string): number {
  let out = 0;
  let scale = 1;
  for (let i = 0; i < value.length; i += 1) {
    const b = value[i] ?? 0;
    out += (b % 128) * scale;
    scale *= 128;
    if (b < 128) {
      if (i !== value.length - 1 || !Number.isSafeInteger(out)) break;
      return out;
    }
  }
  throw new BinaryRecordError(`its ${what} is not a number`);
}

function readList(value: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let o = 0;
  while (o < value.length) {
    const [item, next] = readLengthPrefixed(value, o, 'a list in it is truncated');
    out.push(item);
    o = next;
  }
  return out;
}

/** `<varint length><bytes>` at offset `o` of `bytes`: the bytes and the offset after them. */
function readLengthPrefixed(bytes: Buffer, start: number, truncated: string): [Buffer, number] {
  let o = start;
  let length = 0;
  let scale = 1;
  for (let i = 0; ; i += 1) {
    const b = bytes[o++];
    if (b === undefined || i > 4) throw new BinaryRecordError(truncated);
    length += (b % 128) * scale;
    scale *= 128;
    if (b < 128) break;
  }
  if (o + length > bytes.length) throw new BinaryRecordError(truncated);
  return [bytes.subarray(o, o + length), o + length];
}

const text = (value: Buffer): string => value.toString('utf8');

/** The latest time a Date holds (ECMAScript's TimeClip bound), in ms either side of 1970. */
const MAX_DATE_MS = 8.64e15;

/** A numeric date field's epoch ms (baseMs plus its offset, when relative); undefined when it is not numeric. */
function msOf(fields: ReadonlyArray<Buffer | undefined>, numberTag: number, textTag: number, baseMs: number | undefined, what: string): number | undefined {
  const number = fields[numberTag];
  if (number === undefined) return undefined;
  if (fields[textTag] !== undefined) throw new BinaryRecordError(`it has ${what} twice`);
  if (baseMs === undefined && numberTag !== T_NOT_BEFORE_MS) throw new BinaryRecordError(`its ${what} is relative to a notBefore it does not have`);
  const n = readVarint(number, what);
  const ms = baseMs === undefined ? n : baseMs + unzigzag(n);
  // Where new Date(ms) would be an invalid date.
  if (!(Math.abs(ms) <= MAX_DATE_MS)) throw new BinaryRecordError(`its ${what} is out of range`);
  return ms;
}

/** A date field: epoch ms (or ms after baseMs), or its text form; undefined when absent. */
function dateOf(fields: ReadonlyArray<Buffer | undefined>, numberTag: number, textTag: number, baseMs: number | undefined, what: string): string | undefined {
  const ms = msOf(fields, numberTag, textTag, baseMs, what);
  if (ms !== undefined) return new Date(ms).toISOString();
  const textValue = fields[textTag];
  return textValue === undefined ? undefined : text(textValue);
}

/** notBefore and notAfter in ms and the issuer id a record names (undefined: the CA's). */
export function binaryLeafFacts(bytes: Buffer): { notAfterMs: number | undefined; issuerId: string | undefined } {
  const fields = fieldsOfBinary(bytes);
  // A numeric notBefore is the base of the other dates, as it is; a text one is no base.
  const base = msOf(fields, T_NOT_BEFORE_MS, T_NOT_BEFORE_TEXT, undefined, 'notBefore');
  const notAfterText = fields[T_NOT_AFTER_TEXT];
  const notAfterMs = msOf(fields, T_NOT_AFTER_DELTA, T_NOT_AFTER_TEXT, base, 'notAfter') ?? (notAfterText === undefined ? undefined : Date.parse(text(notAfterText)));
  const issuer = fields[T_ISSUER_ID];
  return { notAfterMs: notAfterMs !== undefined && Number.isFinite(notAfterMs) ? notAfterMs : undefined, issuerId: issuer === undefined ? undefined : text(issuer) };
}

/**
 * The record fields a format-3 value stands for, with its CA entry's PEMs, for the schema to check. Throws
 * BinaryRecordError when the bytes do not have the layout; wrong values come out as they are and
 * the schema names them.
 */
export function expandBinary(
  bytes: Buffer,
  commonName: string,
  serialNumber: string,
  ca: { readonly issuingCaPem: string; readonly trustedCasPem: readonly string[] },
  caIssuerId: () => string | undefined,
): Record<string, unknown> {
  const fields = fieldsOfBinary(bytes);
  // A numeric notBefore is the base of the other dates, as it is (not parsed back from its text).
  const base = msOf(fields, T_NOT_BEFORE_MS, T_NOT_BEFORE_TEXT, undefined, 'notBefore');
  const notBeforeText = fields[T_NOT_BEFORE_TEXT];
  const notBefore = base !== undefined ? new Date(base).toISOString() : notBeforeText === undefined ? undefined : text(notBeforeText);
  const certDer = fields[T_CERT_DER];
  const certPem = fields[T_CERT_PEM];
  if (certDer !== undefined && certPem !== undefined) throw new BinaryRecordError('it has two certificates');
  const chainDer = fields[T_CHAIN_DER];
  const chainPem = fields[T_CHAIN_PEM];
  const key = fields[T_SEALED_KEY];
  const keyText = fields[T_SEALED_KEY_TEXT];
  if (key !== undefined && keyText !== undefined) throw new BinaryRecordError('it has two sealed keys');
  const afterCn = fields[T_DNS_AFTER_CN];
  const dns = fields[T_DNS_NAMES];
  const validity = fields[T_VALIDITY_MS];
  const list = (tag: number): string[] => {
    const value = fields[tag];
    return value === undefined ? [] : readList(value).map(text);
  };
  const opt = (tag: number, fallback: string | undefined): string | undefined => {
    const value = fields[tag];
    return value === undefined ? fallback : text(value);
  };
  const out: Record<string, unknown> = {
    commonName,
    serialNumber,
    notBefore,
    notAfter: dateOf(fields, T_NOT_AFTER_DELTA, T_NOT_AFTER_TEXT, base, 'notAfter'),
    renewAt: dateOf(fields, T_RENEW_AT_DELTA, T_RENEW_AT_TEXT, base, 'renewAt'),
    certificatePem: certDer !== undefined ? pemOfDer(certDer) : certPem === undefined ? undefined : text(certPem),
    chainPem: chainDer !== undefined ? readList(chainDer).map(pemOfDer) : list(T_CHAIN_PEM),
    issuingCaPem: ca.issuingCaPem,
    trustedCasPem: ca.trustedCasPem,
    issuerId: opt(T_ISSUER_ID, undefined) ?? caIssuerId(),
    provider: opt(T_PROVIDER, 'tresor'),
    keyAlgorithm: opt(T_KEY_ALGORITHM, DEFAULT_KEY_ALGORITHM),
    mode: opt(T_MODE, 'server-key'),
    dnsNames: dns !== undefined ? readList(dns).map(text) : afterCn !== undefined ? [commonName, ...readList(afterCn).map(text)] : [commonName],
    uris: list(T_URIS),
    ipAddresses: list(T_IPS),
    validityMs: validity === undefined ? undefined : readVarint(validity, 'validity'),
    issuedAt: dateOf(fields, T_ISSUED_AT_DELTA, T_ISSUED_AT_TEXT, base, 'issuedAt'),
    warnings: list(T_WARNINGS),
  };
  if (chainDer !== undefined && chainPem !== undefined) throw new BinaryRecordError('it has two chains');
  if (dns !== undefined && afterCn !== undefined) throw new BinaryRecordError('it has two lists of DNS names');
  const csr = fields[T_CSR_PEM];
  if (csr !== undefined) out['csrPem'] = text(csr);
  if (key !== undefined) out['encryptedPrivateKey'] = sealedKeyText(key);
  else if (keyText !== undefined) out['encryptedPrivateKey'] = text(keyText);
  return out;
}
