// The announcement of a stored certificate, encoded for the commit script. encodeEvent checks
// every event against the event schema (zod), which costs as much per certificate as encoding
// its record; an `issued` or `rotated` event built from the record it announces repeats fields
// the record's own check has just passed. Those are encoded after plain checks of what is left
// (kind, version, time, reason, previous serial); anything else goes through encodeEvent, which
// decides and words the error. The JSON is the same as encodeEvent's, key for key.
import { isCanonicalIsoTime } from './iso-date.js';
import type { CertificateRecord } from '../contracts/certificate-record.js';
import { issueReasonSchema, serialNumberSchema } from '../contracts/common.js';
import type { IssuedEvent, RotatedEvent } from '../contracts/events.js';
import { encodeEvent } from '../events/event-stream.js';

const REASONS: ReadonlySet<unknown> = new Set(issueReasonSchema.options);
const ISSUED_KEYS = 6;
const ROTATED_KEYS = 8;

/**
 * The JSON of `event`, which announces `record` (already checked against the record schema).
 * Equal to encodeEvent(event) whenever that succeeds; throws as it does otherwise.
 */
export function encodeStoredEvent(event: IssuedEvent | RotatedEvent, record: CertificateRecord): string {
  const plain =
    typeof event === 'object' &&
    event !== null &&
    event.version === 1 &&
    event.commonName === record.commonName &&
    event.serialNumber === record.serialNumber &&
    event.notAfter === record.notAfter &&
    isCanonicalIsoTime(event.at);
  if (plain && event.kind === 'issued' && Object.keys(event).length === ISSUED_KEYS) {
    return JSON.stringify({ version: 1, at: event.at, kind: 'issued', commonName: event.commonName, serialNumber: event.serialNumber, notAfter: event.notAfter });
  }
  if (
    plain &&
    event.kind === 'rotated' &&
    Object.keys(event).length === ROTATED_KEYS &&
    serialNumberSchema.safeParse(event.previousSerialNumber).success &&
    REASONS.has(event.reason)
  ) {
    return JSON.stringify({
      version: 1,
      at: event.at,
      kind: 'rotated',
      commonName: event.commonName,
      serialNumber: event.serialNumber,
      previousSerialNumber: event.previousSerialNumber,
      notAfter: event.notAfter,
      reason: event.reason,
    });
  }
  return encodeEvent(event);
}
