// The one place a certificate record is turned into what Redis holds and back. Every writer
// (Inventory.put, IssueBatchStore.commit) encodes through encodeRecord and every reader decodes
// through decodeRecord, both against certificateRecordSchema, so a record that was written can
// always be read by the same version. The hash keeps the record (JSON text in formats 1 and 2,
// bytes in format 3: binary-record.ts) and, apart, its serial, the serial it replaced and a
// reference to its CA PEMs. The issuing CA and the trusted roots are the
// same for every certificate of a CA (~1.3 KB, 40% of a record), so they are stored once per
// distinct set under <prefix>:inv:ca:<digest> and the record names the digest. Records written
// before that (CA PEMs inside the JSON) stay readable as they are.
import { z } from 'zod';
import { fingerprintSha256 } from '@fsm-certs/x509';
import { certificatePemSchema, certificateRecordSchema, type CertificateRecord } from '../contracts/certificate-record.js';
import { QueueError } from '../errors.js';
import { BINARY_FORMAT_BYTE, BinaryRecordError, binaryLeafFacts, encodeBinary, expandBinary, type BinaryHints } from './binary-record.js';

export type { BinaryHints } from './binary-record.js';
import { COMPACT_VERSION, DEFAULT_RECORD_FORMAT, encodeCompact, expandCompact, type RecordFormat } from './compact-record.js';
import { plainlyValidRecord, type RecordTimes } from './record-check.js';
import { trustBundleDigest } from './trust-bundle-digest.js';

export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new QueueError('RECORD_INVALID', `${what} in Redis is not valid JSON; delete it and re-issue.`, { cause: error });
  }
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid';
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
  return `${issue.path.length === 0 ? '(record)' : issue.path.join('.')}: ${issue.message}${more}`;
}

/** The CA PEMs a record refers to, stored once per distinct set. */
export interface CaPems {
  readonly issuingCaPem: string;
  readonly trustedCasPem: readonly string[];
}

const caPemsSchema = z.object({ issuingCaPem: certificatePemSchema, trustedCasPem: z.array(certificatePemSchema) });

/** A CA entry as stored: its digest (the key's last segment, and the record's `ca` field) and JSON. */
export interface EncodedCa {
  readonly digest: string;
  readonly json: string;
}

/**
 * The short name of a CA entry that format-3 records refer to: the first 120 bits of its SHA-256
 * digest in base64url (20 characters). The `ca` field is in every certificate's hash, and 20
 * characters fit Redis's 24-byte allocation where 64 hex characters take 80 bytes. A deployment
 * meets a handful of CA sets, so 120 bits leave no practical chance of two sharing a name; older
 * formats keep the full hex digest, which is all an older reader accepts.
 */
export function shortCaDigest(hexDigest: string): string {
  return Buffer.from(hexDigest, 'hex').toString('base64url').slice(0, 20);
}

/** The last CA set encoded: a writer meets the same one for every record of its CA. */
let lastCa: { readonly pems: CaPems; readonly encoded: EncodedCa; readonly short: EncodedCa } | undefined;

/** Issuer ids (SHA-256 fingerprints) of the issuing CAs met; a handful per process, bounded all the same. */
const issuerIds = new Map<string, string | undefined>();

/** The issuer id of an issuing CA PEM; undefined when it does not parse (then records keep theirs). */
export function issuerIdOf(issuingCaPem: string): string | undefined {
  if (issuerIds.has(issuingCaPem)) return issuerIds.get(issuingCaPem);
  let id: string | undefined;
  try {
    id = fingerprintSha256(issuingCaPem);
  } catch {
    id = undefined;
  }
  if (issuerIds.size >= 64) issuerIds.clear();
  issuerIds.set(issuingCaPem, id);
  return id;
}

function samePems(a: CaPems, b: CaPems): boolean {
  return (
    a.issuingCaPem === b.issuingCaPem &&
    a.trustedCasPem.length === b.trustedCasPem.length &&
    a.trustedCasPem.every((pem, i) => pem === b.trustedCasPem[i])
  );
}

/** The CA entry of a set of CA PEMs, named by its full digest, or by the short one (shortCaDigest). */
export function encodeCa(pems: CaPems, options: { readonly short?: boolean } = {}): EncodedCa {
  // Comparing the PEMs costs far less than hashing them (SHA-256 over ~1.3 KB per record).
  if (lastCa === undefined || !samePems(lastCa.pems, pems)) {
    const digest = trustBundleDigest(pems.issuingCaPem, pems.trustedCasPem);
    const json = JSON.stringify({ issuingCaPem: pems.issuingCaPem, trustedCasPem: pems.trustedCasPem });
    lastCa = { pems: { issuingCaPem: pems.issuingCaPem, trustedCasPem: [...pems.trustedCasPem] }, encoded: { digest, json }, short: { digest: shortCaDigest(digest), json } };
  }
  return options.short === true ? lastCa.short : lastCa.encoded;
}

/** A stored CA entry, or undefined when it is not valid or not the content its digest names. */
export function decodeCa(digest: string, json: string): CaPems | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return undefined;
  }
  const parsed = caPemsSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const full = trustBundleDigest(parsed.data.issuingCaPem, parsed.data.trustedCasPem);
  return digest === full || digest === shortCaDigest(full) ? parsed.data : undefined;
}

/**
 * A record checked against the schema, what the hash's `record` field holds (JSON text for
 * formats 1 and 2, bytes for format 3; without the CA PEMs) and the CA entry it refers to (the
 * hash's `ca` field holds its digest).
 */
export interface EncodedRecord {
  readonly record: CertificateRecord;
  readonly value: string | Buffer;
  readonly ca: EncodedCa;
  /** The record's renewAt and notAfter in epoch ms as its check read them; undefined when the schema decided (then read them from the record). */
  readonly renewAtMs?: number | undefined;
  readonly notAfterMs?: number | undefined;
}

/** The record as the schema gives it back, or RECORD_INVALID naming the first problem. */
function schemaChecked(record: CertificateRecord): CertificateRecord {
  const checked = certificateRecordSchema.safeParse(record);
  if (!checked.success) {
    throw new QueueError(
      'RECORD_INVALID',
      `Refusing to store the certificate record for ${String(record.commonName)}: ${firstIssue(checked.error)}. Nothing was written; this is a bug in the writer.`,
      { cause: checked.error },
    );
  }
  return checked.data;
}

/** The dates encodeRecord's check reads, handed to the encoder within the same call (NaN: doubles from the start). */
const checkedTimes: RecordTimes = { notBeforeMs: Number.NaN, notAfterMs: Number.NaN, renewAtMs: Number.NaN, issuedAtMs: Number.NaN };

/**
 * Validates a record before it is stored and serialises it in `format` (compact-record.ts).
 * Throws RECORD_INVALID (nothing is written): a record that fails its own schema would be
 * unreadable once stored.
 */
export function encodeRecord(record: CertificateRecord, format: RecordFormat = DEFAULT_RECORD_FORMAT, hints?: BinaryHints): EncodedRecord {
  // The check reads the four dates; what it read is handed on, so no one parses them again.
  const plain = plainlyValidRecord(record, {}, checkedTimes);
  const valid = plain ? record : schemaChecked(record);
  // previousSerialNumber is derived on read from the hash, never stored in the JSON; the CA PEMs
  // are stored once for all records that share them (the full format repeats them, as every
  // older version expects).
  if (format === 'binary') {
    const value = encodeBinary(valid, issuerIdOf(valid.issuingCaPem), hints, plain ? checkedTimes : undefined);
    const ca = encodeCa(valid, { short: true });
    return { record: valid, value, ca, renewAtMs: plain ? checkedTimes.renewAtMs : undefined, notAfterMs: plain ? checkedTimes.notAfterMs : undefined };
  }
  const ca = encodeCa(valid);
  if (format === 'compact') return { record: valid, value: encodeCompact(valid, issuerIdOf(valid.issuingCaPem)), ca };
  const { previousSerialNumber: _derived, ...full } = valid;
  return { record: valid, value: JSON.stringify(full), ca };
}

/**
 * A stored record that does not decode: corrupted, or written by a version with another schema.
 * Lists leave it out (and say so); a read of that one name fails with this error.
 */
export class UnreadableRecordError extends QueueError {
  constructor(
    readonly commonName: string,
    /** The serial the hash holds next to the record, when it has one. */
    readonly serialNumber: string | undefined,
    readonly detail: string,
    options: { cause?: unknown } = {},
  ) {
    super(
      'RECORD_UNREADABLE',
      `The stored certificate record for ${commonName}${serialNumber === undefined ? '' : ` (serial ${serialNumber})`} cannot be read: ${detail}. ` +
        'It is corrupted or was written by another version; delete the name from the inventory and issue it again.',
      options,
    );
  }
}

export function isUnreadableRecord(value: unknown): value is UnreadableRecordError {
  return value instanceof UnreadableRecordError;
}

/**
 * The hash fields a reader fetches, in this order: HMGET <cert key> ...RECORD_FIELDS. Readers
 * fetch them as bytes (hmgetBuffer, runScriptBuffer): a format-3 record is not text.
 */
export const RECORD_FIELDS = ['record', 'previousSerial', 'serial', 'ca'] as const;

/** What HMGET of RECORD_FIELDS (or a script returning the same) gave back. */
export interface RecordFields {
  /** The record as stored: bytes when read as such (every reader here), text from a string read. */
  readonly record: Buffer | string | null;
  readonly previousSerial: string | null;
  readonly serial: string | null;
  /** Digest of the CA entry the record refers to; null for records that carry their CA PEMs. */
  readonly ca: string | null;
}

export function fieldsOf(reply: unknown): RecordFields {
  const [record, previousSerial, serial, ca] = Array.isArray(reply) ? (reply as unknown[]) : [];
  const text = (value: unknown): string | null => (typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('utf8') : null);
  return { record: typeof record === 'string' || Buffer.isBuffer(record) ? record : null, previousSerial: text(previousSerial), serial: text(serial), ca: text(ca) };
}

/** Whether a stored record is format 3 (bytes) rather than JSON text. */
function isBinary(value: Buffer | string): value is Buffer {
  return typeof value !== 'string' && value[0] === BINARY_FORMAT_BYTE;
}

/** The JSON text of a format 1 or 2 record as read. */
function jsonText(value: Buffer | string): string {
  return typeof value === 'string' ? value : value.toString('utf8');
}

/**
 * The record stored for commonName, or undefined when absent. Throws UnreadableRecordError when
 * it is there but does not decode. `caOf` gives the CA entry of a digest (undefined when it is
 * missing); it is asked only for records that refer to one.
 */
export function decodeRecord(commonName: string, fields: RecordFields, caOf: (digest: string) => CaPems | undefined): CertificateRecord | undefined {
  const { record, previousSerial, serial } = fields;
  if (record === null) return undefined;
  const serialNumber = serial ?? undefined;
  const caIssuerId = (): string | undefined => {
    const pem = fields.ca === null ? undefined : caOf(fields.ca)?.issuingCaPem;
    return pem === undefined ? undefined : issuerIdOf(pem);
  };
  if (isBinary(record)) {
    // Format 3 is built whole here (CA PEMs and previous serial included) and checked once.
    if (serialNumber === undefined) throw new UnreadableRecordError(commonName, serialNumber, 'it has no serial field');
    const caDigest = fields.ca;
    const ca = caDigest === null ? undefined : caOf(caDigest);
    if (ca === undefined) throw new UnreadableRecordError(commonName, serialNumber, caDigest === null ? 'it has no CA field' : `the CA entry it refers to (${caDigest}) is missing or damaged`);
    let full: Record<string, unknown>;
    try {
      full = expandBinary(record, commonName, serialNumber, ca, () => issuerIdOf(ca.issuingCaPem));
    } catch (error) {
      if (!(error instanceof BinaryRecordError)) throw error;
      throw new UnreadableRecordError(commonName, serialNumber, error.message, { cause: error });
    }
    if (previousSerial !== null) full['previousSerialNumber'] = previousSerial;
    return checked(commonName, serialNumber, full);
  }
  if (typeof record === 'string' && record.charCodeAt(0) === BINARY_FORMAT_BYTE) {
    // Read as text, its bytes may have been changed by the UTF-8 decoding: never decode that.
    throw new UnreadableRecordError(commonName, serialNumber, 'it is a format-3 record read as text (a reader bug: read it as bytes)');
  }
  const stored = parseJsonRecord(commonName, serialNumber, jsonText(record), caIssuerId);
  return finishRecord(commonName, serialNumber, stored, fields.ca, previousSerial, caOf);
}

/** A format 1 or 2 record's JSON as the fields of a record, for the schema to check. */
function parseJsonRecord(commonName: string, serialNumber: string | undefined, json: string, caIssuerId: () => string | undefined): object {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new UnreadableRecordError(commonName, serialNumber, 'it is not valid JSON', { cause: error });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UnreadableRecordError(commonName, serialNumber, 'it is not a JSON object');
  let stored: object = raw;
  if ('v' in raw) {
    if (raw.v !== COMPACT_VERSION) throw new UnreadableRecordError(commonName, serialNumber, `it is in record format ${String(raw.v)}, which this version does not read`);
    // The compact form's serial is the hash's own field: without it there is nothing to read.
    if (serialNumber === undefined) throw new UnreadableRecordError(commonName, serialNumber, 'it has no serial field');
    stored = expandCompact(raw as Record<string, unknown>, commonName, serialNumber, caIssuerId);
  }
  return stored;
}

/** Adds the CA PEMs and the previous serial to a record's stored fields and checks the whole against the schema. */
function finishRecord(
  commonName: string,
  serialNumber: string | undefined,
  stored: object,
  caDigest: string | null,
  previousSerial: string | null,
  caOf: (digest: string) => CaPems | undefined,
): CertificateRecord {
  // A record that carries its CA PEMs (written before they were stored apart, or by an older
  // replica during an upgrade) is read as it is, whatever `ca` says.
  let ca: CaPems | undefined;
  if (!('issuingCaPem' in stored) && caDigest !== null) {
    ca = caOf(caDigest);
    if (ca === undefined) throw new UnreadableRecordError(commonName, serialNumber, `the CA entry it refers to (${caDigest}) is missing or damaged`);
  }
  const full = ca === undefined ? stored : { ...stored, issuingCaPem: ca.issuingCaPem, trustedCasPem: ca.trustedCasPem };
  return checked(commonName, serialNumber, previousSerial !== null ? { ...full, previousSerialNumber: previousSerial } : full);
}

/**
 * The record the schema makes of a decoded value; the schema is the judge of whether it is
 * readable. A value of the everyday shape is taken as it is when the field-by-field check says
 * the schema would return it unchanged (record-check.ts): the gateway decodes every record it
 * answers an issue request with (issue results v3), and the whole schema's pass cost about as
 * much as the rest of decoding one.
 */
function checked(commonName: string, serialNumber: string | undefined, value: object): CertificateRecord {
  if (plainlyValidRecord(value)) return value as CertificateRecord;
  const parsed = certificateRecordSchema.safeParse(value);
  if (!parsed.success) throw new UnreadableRecordError(commonName, serialNumber, firstIssue(parsed.error), { cause: parsed.error });
  return parsed.data;
}

/** The value of a request-id marker: `<serial> <commonName>`. */
export function requestMarker(commonName: string, serialNumber: string): string {
  return `${serialNumber} ${commonName}`;
}

export function parseRequestMarker(value: string): { readonly serialNumber: string; readonly commonName: string } | undefined {
  const space = value.indexOf(' ');
  if (space < 0) return undefined;
  return { serialNumber: value.slice(0, space), commonName: value.slice(space + 1) };
}

/**
 * Whether the current record of a name answers a request that produced serialNumber: it is that
 * certificate, or its direct successor (rotated since).
 */
export function answersMarker(record: CertificateRecord, serialNumber: string): boolean {
  return record.serialNumber === serialNumber || record.previousSerialNumber === serialNumber;
}

/** What the root rotation's scan needs of a record: whose it is, from which issuer, until when. */
export interface LeafFacts {
  readonly commonName: string;
  readonly serialNumber: string;
  readonly issuerId: string;
  readonly notAfterMs: number;
}

function msOf(value: unknown, baseMs: number): number | undefined {
  const ms = typeof value === 'number' ? baseMs + value : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * The leaf facts of a stored record, read from its JSON without the schema check and the PEM
 * work decodeRecord does (a scan of every record pays them a million times for four fields).
 * Undefined when absent or when these fields do not read; decodeRecord stays the judge of
 * whether a record is readable as a whole.
 */
export function leafFactsOf(commonName: string, fields: RecordFields, caOf: (digest: string) => CaPems | undefined): LeafFacts | undefined {
  if (fields.record === null) return undefined;
  const caIssuerId = (): string | undefined => {
    const issuing = fields.ca === null ? undefined : caOf(fields.ca)?.issuingCaPem;
    return issuing === undefined ? undefined : issuerIdOf(issuing);
  };
  if (isBinary(fields.record)) {
    if (fields.serial === null) return undefined;
    try {
      const facts = binaryLeafFacts(fields.record);
      const issuerId = facts.issuerId ?? caIssuerId();
      return facts.notAfterMs === undefined || issuerId === undefined ? undefined : { commonName, serialNumber: fields.serial, issuerId, notAfterMs: facts.notAfterMs };
    } catch (error) {
      if (error instanceof BinaryRecordError) return undefined;
      throw error;
    }
  }
  let raw: unknown;
  try {
    raw = JSON.parse(jsonText(fields.record));
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const r = raw as Record<string, unknown>;
  let notAfterMs: number | undefined;
  let issuerId: unknown;
  let serialNumber: unknown = fields.serial ?? r['serialNumber'];
  if ('v' in r) {
    if (r['v'] !== COMPACT_VERSION) return undefined;
    serialNumber = fields.serial;
    const notBeforeMs = msOf(r['b'], 0);
    notAfterMs = notBeforeMs === undefined ? undefined : msOf(r['a'], notBeforeMs);
    issuerId = r['i'] ?? caIssuerId();
  } else {
    notAfterMs = msOf(r['notAfter'], 0);
    issuerId = r['issuerId'];
  }
  if (notAfterMs === undefined || typeof issuerId !== 'string' || typeof serialNumber !== 'string') return undefined;
  return { commonName, serialNumber, issuerId, notAfterMs };
}
