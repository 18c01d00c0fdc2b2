// Reading a certificate record back from Redis: the hash keeps the record JSON and, apart, the
// serial it replaced. Data read from Redis is an edge, so it is validated against the schema.
import { certificateRecordSchema, type CertificateRecord } from '../contracts/certificate-record.js';
import { parseStored } from '../contracts/parse.js';
import { QueueError } from '../errors.js';

export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new QueueError('RECORD_INVALID', `${what} in Redis is not valid JSON; delete it and re-issue.`, { cause: error });
  }
}

/** The record stored for commonName (fields `record` and `previousSerial`), or undefined when absent. */
export function decodeRecord(commonName: string, json: string | null, previousSerial: string | null): CertificateRecord | undefined {
  if (json === null) return undefined;
  const raw = parseJson(json, `Certificate record for ${commonName}`);
  const withPrevious = previousSerial !== null && typeof raw === 'object' && raw !== null ? { ...raw, previousSerialNumber: previousSerial } : raw;
  return parseStored(certificateRecordSchema, withPrevious, `Certificate record for ${commonName}`);
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
