// The inventory as an issue batch sees it: one round trip to read everything a batch decides on
// (request-id markers and current records), one round trip to apply its outcomes. Each write
// carries its own compare-and-set, so a name keeps exactly one current certificate without a
// lock: a writer that lost a race changes nothing and learns it, and decides again.
import type { Redis } from 'ioredis';
import { SERIAL_NUMBER_PATTERN } from '@fsm-certs/api';
import { checkAuditRecord } from '../audit/audit-record-check.js';
import { DEFAULT_AUDIT_RETENTION_MS, auditCutoff } from '../audit/audit-log.js';
import { certificateAuditRecord } from '../audit/issuance-record.js';
import type { IssueAuditContext } from '../contracts/issue-job.js';
import type { CertificateRecord } from '../contracts/certificate-record.js';
import type { IssuedEvent, RotatedEvent } from '../contracts/events.js';
import { QueueError } from '../errors.js';
import { DEFAULT_EVENT_STREAM_MAX_LENGTH } from '../events/event-stream.js';
import { DEFAULT_PREFIX, keyspace, type Keyspace } from '../keys.js';
import { runScript, runScriptBuffer } from '../redis/run-script.js';
import { DEFAULT_REQUEST_TTL_MS } from './inventory.js';
import { CaEntries } from './ca-entries.js';
import { DEFAULT_RECORD_FORMAT, type RecordFormat } from './compact-record.js';
import { UnreadableRecordError, decodeRecord, encodeRecord, fieldsOf, parseRequestMarker, requestMarker, type BinaryHints, type EncodedRecord } from './record-codec.js';
import { isoMs } from './iso-date.js';
import { indexedNotAfter } from './live-leaves.js';
import { encodeStoredEvent } from './store-event.js';
import { COMMIT_BATCH_SCRIPT, LOOKUP_BATCH_SCRIPT } from './scripts.js';

export interface BatchLookupKey {
  readonly requestId: string;
  readonly commonName: string;
}

export interface BatchLookup {
  /** What the request id produced before (a retry), as its marker says; undefined if unknown. */
  readonly marker: { readonly serialNumber: string; readonly commonName: string } | undefined;
  /** The current record of the item's common name (undefined too when it is unreadable). */
  readonly current: CertificateRecord | undefined;
  /**
   * Set when the name holds a record that does not decode. The item must fail with it: its
   * serial is unknown to the writer's compare-and-set, and the other items of the batch go on.
   */
  readonly unreadable?: UnreadableRecordError;
}

/**
 * Store a certificate this process just issued, only if the name's current serial is still
 * expectSerial (null = the name has none). Its request ids and its announcement go with it.
 */
export interface StoreWrite {
  readonly kind: 'store';
  /** Built by the caller from provider output; validated by commit() like every stored record. */
  readonly record: CertificateRecord;
  readonly expectSerial: string | null;
  readonly requestIds: readonly string[];
  /** `issued` when expectSerial is null, else `rotated` from expectSerial. */
  readonly event: IssuedEvent | RotatedEvent;
  /**
   * Also refuse while any of requestIds is remembered: for a write decided without a lookup, so
   * a retried request is never answered by a certificate it did not look for.
   */
  readonly unlessRequestKnown?: boolean;
  /** The record's leaf DER and sealed key as bytes, when the writer has them (see BinaryHints). */
  readonly hints?: BinaryHints;
  /** The audit record of the HTTP request this answers, stored with the certificate (outcome `issued`). */
  readonly audit?: IssueAuditContext;
}

/** Remember that requestId is answered by serialNumber, only if that is still the current serial. */
export interface RememberWrite {
  readonly kind: 'remember';
  readonly commonName: string;
  readonly serialNumber: string;
  readonly requestId: string;
}

export type BatchWrite = StoreWrite | RememberWrite;

export interface IssueBatchStoreOptions {
  readonly prefix?: string;
  /** How long request ids are remembered; default 24 h (longer than any job's retries). */
  readonly requestTtlMs?: number;
  /** Approximate cap of the event stream; the EventStream's default unless set. */
  readonly eventMaxLength?: number;
  /** The form records are written in; compact unless an older replica still has to read them. */
  readonly recordFormat?: RecordFormat;
  /** How long the audit trail keeps records; the commit trims what is older. Default 720h. */
  readonly auditRetentionMs?: number;
  /** Epoch milliseconds, for the audit trim. */
  readonly now?: () => number;
}

/** Far above the distinct CA entries a process writes (a few per root rotation); bounds memory. */
const MAX_STORED_CAS = 256;

/**
 * The commit script's header of a store write: its fields that are digits, hex or a flag, in one
 * argument (see COMMIT_BATCH_SCRIPT). The record's serial and dates have passed its check.
 */
function storeHeader(write: StoreWrite, encoded: EncodedRecord, caNumber: number, issuerNumber: number): string {
  const { record } = encoded;
  // A serial (checked hex) or '-': nothing the header's separator could be part of.
  const expect = write.expectSerial ?? '-';
  if (expect !== '-' && !SERIAL_NUMBER_PATTERN.test(expect)) throw new QueueError('INVALID_ARGUMENT', `Refusing to store ${record.commonName}: the expected serial ${JSON.stringify(expect)} is not a serial number.`);
  const renewAtMs = encoded.renewAtMs ?? isoMs(record.renewAt) ?? Date.parse(record.renewAt);
  const notAfterMs = encoded.notAfterMs ?? isoMs(record.notAfter) ?? Date.parse(record.notAfter);
  const flag = write.unlessRequestKnown === true ? 'n' : 's';
  return `${flag} ${record.serialNumber} ${renewAtMs} ${expect} ${write.requestIds.length} ${caNumber} ${issuerNumber} ${indexedNotAfter(notAfterMs)}`;
}

export class IssueBatchStore {
  readonly keys: Keyspace;
  private readonly requestTtl: string;
  private readonly eventMaxLength: string;
  private readonly cas: CaEntries;
  readonly recordFormat: RecordFormat;
  private readonly auditRetentionMs: number;
  private readonly now: () => number;
  /** Digests of CA entries this process saw stored: later batches send only their digest. */
  private readonly storedCas = new Set<string>();

  constructor(
    private readonly redis: Redis,
    options: IssueBatchStoreOptions = {},
  ) {
    this.keys = keyspace(options.prefix ?? DEFAULT_PREFIX);
    this.requestTtl = String(options.requestTtlMs ?? DEFAULT_REQUEST_TTL_MS);
    this.eventMaxLength = String(options.eventMaxLength ?? DEFAULT_EVENT_STREAM_MAX_LENGTH);
    this.cas = new CaEntries(redis, this.keys);
    this.recordFormat = options.recordFormat ?? DEFAULT_RECORD_FORMAT;
    this.auditRetentionMs = options.auditRetentionMs ?? DEFAULT_AUDIT_RETENTION_MS;
    this.now = options.now ?? Date.now;
  }

  /** One entry per key, in order. Records read back are decoded with the shared codec (Redis is an edge). */
  async lookup(items: readonly BatchLookupKey[]): Promise<BatchLookup[]> {
    if (items.length === 0) return [];
    const keys: string[] = [];
    for (const item of items) keys.push(this.keys.request(item.requestId), this.keys.cert(item.commonName));
    const reply = await runScriptBuffer(this.redis, LOOKUP_BATCH_SCRIPT, keys, []);
    if (!Array.isArray(reply) || reply.length !== items.length * 5) {
      throw new QueueError('RECORD_INVALID', 'The batch lookup script returned an unexpected reply; check that Redis runs the scripts of this version.');
    }
    const fields = items.map((_, i) => fieldsOf(reply.slice(i * 5 + 1, i * 5 + 5)));
    await this.cas.load(fields.map((f) => f.ca));
    return items.map((item, i): BatchLookup => {
      const marker: unknown = reply[i * 5];
      const found = { marker: Buffer.isBuffer(marker) ? parseRequestMarker(marker.toString('utf8')) : undefined };
      try {
        return { ...found, current: decodeRecord(item.commonName, fields[i] ?? fieldsOf(undefined), this.cas.of) };
      } catch (error) {
        if (!(error instanceof UnreadableRecordError)) throw error;
        return { ...found, current: undefined, unreadable: error };
      }
    });
  }

  /**
   * Applies writes in order (each atomically with its check); true per write that was applied.
   * Every record (and announcement) is validated first, as Inventory.put and EventStream.publish
   * do: if one fails its schema, nothing is written and the error names it.
   */
  async commit(writes: readonly BatchWrite[]): Promise<boolean[]> {
    if (writes.length === 0) return [];
    // Every record is encoded (and validated) before anything is sent.
    const encoded = writes.map((write) => (write.kind === 'store' ? encodeRecord(write.record, this.recordFormat, write.hints) : undefined));
    try {
      return await this.send(writes, encoded, this.storedCas);
    } catch (error) {
      // A CA entry this process stored before is gone (a flushed or restored Redis): the batch
      // wrote nothing; it goes again with every entry's content.
      if (!(error instanceof Error && error.message.startsWith('NOCAENTRY'))) throw error;
      this.storedCas.clear();
      return this.send(writes, encoded, this.storedCas);
    }
  }

  private async send(writes: readonly BatchWrite[], encoded: ReadonlyArray<EncodedRecord | undefined>, storedCas: ReadonlySet<string>): Promise<boolean[]> {
    // Each distinct CA entry and issuer id travels once per batch (a store write names them by
    // number); an entry's content only while this process has not seen it stored.
    const cas = new Map<string, { readonly json: string; readonly n: number }>();
    const issuers = new Map<string, number>();
    for (const e of encoded) {
      if (e === undefined) continue;
      if (!cas.has(e.ca.digest)) cas.set(e.ca.digest, { json: e.ca.json, n: cas.size + 1 });
      if (!issuers.has(e.record.issuerId)) issuers.set(e.record.issuerId, issuers.size + 1);
    }
    const keys = [this.keys.renewIndex, this.keys.names, this.keys.events, this.keys.liveIndex, this.keys.liveIssuers];
    const args: Array<string | Buffer> = [this.requestTtl, this.eventMaxLength, String(writes.length), String(cas.size)];
    for (const [digest, { json }] of cas) {
      keys.push(this.keys.caEntry(digest));
      args.push(digest, storedCas.has(digest) ? '' : json);
    }
    args.push(String(issuers.size), ...issuers.keys());
    writes.forEach((write, w) => {
      const e = encoded[w];
      if (write.kind === 'store' && e !== undefined) {
        const { record, value, ca } = e;
        keys.push(this.keys.cert(record.commonName));
        for (const id of write.requestIds) keys.push(this.keys.request(id));
        const header = storeHeader(write, e, cas.get(ca.digest)?.n ?? 0, issuers.get(record.issuerId) ?? 0);
        args.push(header, value, record.commonName, encodeStoredEvent(write.event, record));
      } else if (write.kind === 'remember') {
        keys.push(this.keys.cert(write.commonName), this.keys.request(write.requestId));
        args.push('r', write.serialNumber, requestMarker(write.commonName, write.serialNumber));
      }
    });
    this.appendAudits(writes, keys, args);
    const reply = await runScript(this.redis, COMMIT_BATCH_SCRIPT, keys, args);
    if (!Array.isArray(reply) || reply.length !== writes.length) {
      throw new QueueError('RECORD_INVALID', 'The batch commit script returned an unexpected reply; check that Redis runs the scripts of this version.');
    }
    // The script stored every entry of the batch, or found it stored.
    if (this.storedCas.size + cas.size > MAX_STORED_CAS) this.storedCas.clear();
    for (const digest of cas.keys()) this.storedCas.add(digest);
    return reply.map((flag: unknown) => flag === 1);
  }

  /**
   * The audit records stored writes carry, as the commit script's trailing section. Validated
   * like AuditLog.appendMany's: an invalid one fails the commit, so no item claims a record that
   * was not stored.
   */
  private appendAudits(writes: readonly BatchWrite[], keys: string[], args: Array<string | Buffer>): void {
    const entries: string[] = [];
    writes.forEach((write, w) => {
      if (write.kind !== 'store' || write.audit === undefined) return;
      const parsed = checkAuditRecord(certificateAuditRecord(write.audit, 'issued', 201, write.record));
      if (!parsed.success) {
        throw new QueueError('INVALID_ARGUMENT', `Audit record of ${write.record.commonName} rejected: ${parsed.error.issues[0]?.message ?? 'invalid'}.`, { cause: parsed.error });
      }
      entries.push(String(w + 1), parsed.data.id, JSON.stringify(parsed.data));
    });
    if (entries.length === 0) return;
    keys.push(this.keys.auditIndex, this.keys.auditRecords);
    args.push(String(entries.length / 3), auditCutoff(this.now(), this.auditRetentionMs), ...entries);
  }
}
