// Stored records that do not decode (corrupted, or written by another version). Lists leave them
// out and keep working; a read of that one name gets RECORD_UNREADABLE. Every encounter is
// counted on /metrics, so an alert fires while the record is there; the log names each record
// once, not once per request, so a list polled every second cannot flood it.
import type { UnreadableRecordError } from '@fsm-certs/queue';
import type { GatewayLogger } from '../deps.js';
import { GatewayError } from '../errors.js';

/** Distinct records remembered as logged; past this the oldest is forgotten (and may be logged again). */
export const LOGGED_RECORDS_CAPACITY = 1024;

export class UnreadableRecords {
  /** Insertion-ordered, so the oldest entry is the first to evict. */
  private readonly logged = new Set<string>();

  constructor(
    private readonly logger: GatewayLogger,
    private readonly count: () => void,
    private readonly capacity = LOGGED_RECORDS_CAPACITY,
  ) {}

  /** Counts the encounter and logs the record the first time it is met. */
  report(error: UnreadableRecordError): void {
    this.count();
    // Per serial: a name re-issued into another unreadable record is news again.
    const key = `${error.commonName} ${error.serialNumber ?? '-'}`;
    if (this.logged.has(key)) return;
    if (this.logged.size >= this.capacity) {
      const oldest = this.logged.values().next();
      if (oldest.done !== true) this.logged.delete(oldest.value);
    }
    this.logged.add(key);
    this.logger.error(
      { commonName: error.commonName, serialNumber: error.serialNumber, detail: error.detail, code: error.code },
      `stored certificate record for ${error.commonName} cannot be read; lists leave it out until it is deleted (DELETE /v1/certificates/{cn}) and issued again`,
    );
  }

  /** The answer for a request about that one name. */
  refusal(error: UnreadableRecordError): GatewayError {
    this.report(error);
    const cn = error.commonName;
    return new GatewayError(
      'RECORD_UNREADABLE',
      `The stored record for "${cn}" cannot be read (${error.detail}): it is corrupted or was written by another version of fsm-certs. ` +
        `Delete it (DELETE /v1/certificates/${cn}, or fsm-certs cert release ${cn}) and issue the certificate again.`,
      { cause: error },
    );
  }
}
