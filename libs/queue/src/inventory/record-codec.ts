// The one place a certificate record is turned into what Redis holds and back. Every writer
// (Inventory.put, IssueBatchStore.commit) encodes through encodeRecord and every reader decodes
// through decodeRecord, both against certificateRecordSchema, so a record that was written can
// always be read by the same version. The hash keeps the record JSON and, apart, its serial and
// the serial it replaced.
import type { z } from 'zod';
import { certificateRecordSchema, type CertificateRecord } from '../contracts/certificate-record.js';
import { QueueError } from '../errors.js';

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

/** A record checked against the schema, and the JSON the hash's `record` field holds. */
export interface EncodedRecord {
  readonly record: CertificateRecord;
  readonly json: string;
}

/**
 * Validates a record before it is stored and serialises it. Throws RECORD_INVALID (nothing is
 * written): a record that fails its own schema would be unreadable once stored.
 */
export function encodeRecord(record: CertificateRecord): EncodedRecord {
  const checked = certificateRecordSchema.safeParse(record);
  if (!checked.success) {
    throw new QueueError(
      'RECORD_INVALID',
      `Refusing to store the certificate record for ${String(record.commonName)}: ${firstIssue(checked.error)}. Nothing was written; this is a bug in the writer.`,
      { cause: checked.error },
    );
  }
  // previousSerialNumber is derived on read from the hash, never stored in the JSON.
  const { previousSerialNumber: _derived, ...stored } = checked.data;
  return { record: checked.data, json: JSON.stringify(stored) };
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

/** The hash fields a reader fetches, in this order: HMGET <cert key> ...RECORD_FIELDS. */
export const RECORD_FIELDS = ['record', 'previousSerial', 'serial'] as const;

/** What HMGET of RECORD_FIELDS (or a script returning the same) gave back. */
export function fieldsOf(reply: unknown): { json: string | null; previousSerial: string | null; serial: string | null } {
  const [json, previousSerial, serial] = Array.isArray(reply) ? (reply as unknown[]) : [];
  const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
  return { json: text(json), previousSerial: text(previousSerial), serial: text(serial) };
}

/**
 * The record stored for commonName, or undefined when absent. Throws UnreadableRecordError when
 * it is there but does not decode.
 */
export function decodeRecord(commonName: string, json: string | null, previousSerial: string | null, serial: string | null = null): CertificateRecord | undefined {
  if (json === null) return undefined;
  const serialNumber = serial ?? undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new UnreadableRecordError(commonName, serialNumber, 'it is not valid JSON', { cause: error });
  }
  const withPrevious = previousSerial !== null && typeof raw === 'object' && raw !== null ? { ...raw, previousSerialNumber: previousSerial } : raw;
  const parsed = certificateRecordSchema.safeParse(withPrevious);
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
