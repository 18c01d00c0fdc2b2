// The inventory: per common name the current certificate, a renew-time index so a sweep costs
// O(due), a name index for stable pagination, request-id markers for job idempotency, and the
// trust bundle. The source of truth the gateway reads without a queue hop.
import type { Redis } from 'ioredis';
import { trustBundleRecordSchema, type CertificateRecord, type TrustBundleRecord } from '../contracts/certificate-record.js';
import { parseStored } from '../contracts/parse.js';
import { QueueError } from '../errors.js';
import { DEFAULT_PREFIX, keyspace, type Keyspace } from '../keys.js';
import { runScript, runScriptBuffer } from '../redis/run-script.js';
import { CaEntries } from './ca-entries.js';
import { DEFAULT_RECORD_FORMAT, type RecordFormat } from './compact-record.js';
import {
  RECORD_FIELDS,
  UnreadableRecordError,
  answersMarker,
  decodeRecord,
  encodeRecord,
  fieldsOf,
  leafFactsOf,
  parseJson,
  parseRequestMarker,
  requestMarker,
  type LeafFacts,
  type RecordFields,
} from './record-codec.js';
import { LiveLeaves, indexedNotAfter, type LiveLeafCounts, type LiveLeafCursor, type LiveLeafNamesPage } from './live-leaves.js';
import { DELETE_SCRIPT, PUT_SCRIPT } from './scripts.js';
import { readStoredRecords, type StoredName, type StoredRead } from './stored-records.js';

export interface PutOptions {
  /** Compare-and-set: store only if the current serial is this one; `null` = only if absent. */
  readonly expectSerial?: string | null;
  /** Request ids this certificate answers; remembered atomically with the record. */
  readonly requestIds?: readonly string[];
  /** How long request ids are remembered; default 24 h (longer than any job's retries). */
  readonly requestTtlMs?: number;
}

export interface PutResult {
  /** False when expectSerial did not match; nothing was written. */
  readonly stored: boolean;
  /** The serial held before this call (undefined when the name was new). */
  readonly previousSerialNumber: string | undefined;
}

export interface ListPage {
  readonly items: CertificateRecord[];
  /** Pass back as `cursor` for the next page; absent on the last page. */
  readonly nextCursor?: string;
  /** Names of this page whose stored record does not decode: left out of items, never a failure of the page. */
  readonly unreadable: readonly UnreadableRecordError[];
}

/** What delete() removed. */
export interface RemovedRecord {
  readonly commonName: string;
  /** The serial the hash held; undefined only for a hash damaged beyond that. */
  readonly serialNumber: string | undefined;
  /** The record as it was; undefined when it did not decode (it is removed all the same). */
  readonly record: CertificateRecord | undefined;
}

export interface DueEntry {
  readonly commonName: string;
  readonly serialNumber: string;
  readonly renewAtMs: number;
}

export interface TrustBundleInput {
  readonly issuingCaPem: string;
  readonly trustedCasPem: readonly string[];
  readonly rootNotAfter: string | Date;
}

export interface InventoryOptions {
  readonly prefix?: string;
  /** Clock for updatedAt stamps. */
  readonly now?: () => Date;
  /** The form put() writes records in; compact unless an older replica still has to read them. */
  readonly recordFormat?: RecordFormat;
}

export const DEFAULT_REQUEST_TTL_MS = 24 * 3600 * 1000;
const MAX_PAGE = 1000;

export class Inventory {
  readonly keys: Keyspace;
  private readonly now: () => Date;
  private readonly cas: CaEntries;
  private readonly recordFormat: RecordFormat;
  private readonly live: LiveLeaves;

  constructor(
    private readonly redis: Redis,
    options: InventoryOptions = {},
  ) {
    this.keys = keyspace(options.prefix ?? DEFAULT_PREFIX);
    this.now = options.now ?? (() => new Date());
    this.recordFormat = options.recordFormat ?? DEFAULT_RECORD_FORMAT;
    this.cas = new CaEntries(redis, this.keys);
    this.live = new LiveLeaves(redis, this.keys, this);
  }

  async put(record: CertificateRecord, options: PutOptions = {}): Promise<PutResult> {
    const { record: valid, value, ca } = encodeRecord(record, this.recordFormat);
    const renewAtMs = Date.parse(valid.renewAt);
    const requestIds = options.requestIds ?? [];
    const expect = options.expectSerial === undefined ? '' : options.expectSerial === null ? '-' : options.expectSerial;
    const reply = await runScript(
      this.redis,
      PUT_SCRIPT,
      [
        this.keys.cert(valid.commonName),
        this.keys.renewIndex,
        this.keys.names,
        this.keys.caEntry(ca.digest),
        this.keys.liveIndex,
        this.keys.liveIssuers,
        ...requestIds.map((id) => this.keys.request(id)),
      ],
      [
        value,
        valid.serialNumber,
        String(renewAtMs),
        valid.commonName,
        expect,
        String(options.requestTtlMs ?? DEFAULT_REQUEST_TTL_MS),
        requestMarker(valid.commonName, valid.serialNumber),
        ca.digest,
        ca.json,
        valid.issuerId,
        indexedNotAfter(Date.parse(valid.notAfter)),
      ],
    );
    const [storedFlag, previous] = Array.isArray(reply) ? reply : [];
    return {
      stored: storedFlag === 1,
      previousSerialNumber: typeof previous === 'string' ? previous : undefined,
    };
  }

  /** The current record of a name, or undefined; throws UnreadableRecordError when it does not decode. */
  async get(commonName: string): Promise<CertificateRecord | undefined> {
    const fields = fieldsOf(await this.redis.hmgetBuffer(this.keys.cert(commonName), ...RECORD_FIELDS));
    await this.cas.load([fields.ca]);
    return decodeRecord(commonName, fields, this.cas.of);
  }

  /**
   * Removes the name everywhere and says what was removed (undefined if it was absent). A record
   * that does not decode is removed too: deleting it is how an operator gets rid of it.
   */
  async delete(commonName: string): Promise<RemovedRecord | undefined> {
    const removed = await this.deleteSerial(commonName, '');
    return removed === 'changed' ? undefined : removed;
  }

  /**
   * delete(), but only while the name still holds `serial` (the one a caller was authorised
   * on): 'changed' when another certificate took its place in between, and nothing is removed.
   */
  async deleteSerial(commonName: string, expectSerial: string): Promise<RemovedRecord | 'changed' | undefined> {
    const reply = await runScriptBuffer(this.redis, DELETE_SCRIPT, [this.keys.cert(commonName), this.keys.renewIndex, this.keys.names, this.keys.liveIndex], [commonName, expectSerial]);
    if (reply === 0) return 'changed';
    if (!Array.isArray(reply)) return undefined;
    const fields = fieldsOf(reply);
    const [decoded] = await this.decodeAll([{ commonName, fields }]);
    const record = decoded instanceof UnreadableRecordError ? undefined : decoded;
    return { commonName, serialNumber: fields.serial ?? record?.serialNumber, record };
  }

  /** Records in name order, `limit` per page (1..1000); stable while names are added or removed. */
  async list(options: { cursor?: string; limit: number }): Promise<ListPage> {
    const { read, nextCursor } = await this.readPage(options);
    const items: CertificateRecord[] = [];
    const unreadable: UnreadableRecordError[] = [];
    for (const decoded of await this.decodeAll(read)) {
      // A name deleted between the two reads simply drops out of the page; one bad record must
      // not take the whole list down for every reader.
      if (decoded instanceof UnreadableRecordError) unreadable.push(decoded);
      else if (decoded !== undefined) items.push(decoded);
    }
    return nextCursor !== undefined ? { items, nextCursor, unreadable } : { items, unreadable };
  }

  /**
   * list(), but only each record's name, serial, issuer and notAfter (leafFactsOf), for a scan of
   * every record: no schema check or PEM work per record. Records whose facts do not read are
   * left out, as list() leaves out records that do not decode.
   */
  async leaves(options: { cursor?: string; limit: number }): Promise<{ readonly items: LeafFacts[]; readonly nextCursor?: string }> {
    const { read, nextCursor } = await this.readPage(options);
    await this.cas.load(read.map((r) => r.fields.ca));
    const items: LeafFacts[] = [];
    for (const { commonName, fields } of read) {
      const facts = leafFactsOf(commonName, fields, this.cas.of);
      if (facts !== undefined) items.push(facts);
    }
    return nextCursor !== undefined ? { items, nextCursor } : { items };
  }

  /** A page of names in order and their hashes as read. */
  private async readPage(options: { cursor?: string; limit: number }): Promise<{ read: Array<{ commonName: string; fields: RecordFields }>; nextCursor?: string }> {
    const limit = options.limit;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      throw new QueueError('INVALID_ARGUMENT', `list limit must be an integer 1..${MAX_PAGE}; got ${String(limit)}.`);
    }
    const start = options.cursor === undefined || options.cursor === '' ? '-' : `(${options.cursor}`;
    const names = await this.redis.zrangebylex(this.keys.names, start, '+', 'LIMIT', 0, limit + 1);
    const page = names.slice(0, limit);
    const pipeline = this.redis.pipeline();
    for (const name of page) pipeline.hmgetBuffer(this.keys.cert(name), ...RECORD_FIELDS);
    const replies = (await pipeline.exec()) ?? [];
    const read: Array<{ commonName: string; fields: RecordFields }> = [];
    page.forEach((name, i) => {
      const entry = replies[i];
      if (entry === undefined) return;
      const [error, value] = entry;
      if (error) throw error;
      read.push({ commonName: name, fields: fieldsOf(value) });
    });
    const last = page[page.length - 1];
    return names.length > limit && last !== undefined ? { read, nextCursor: last } : { read };
  }

  /**
   * Decodes hashes as read (loading the CA entries they refer to first): per hash its record,
   * undefined when absent, or the UnreadableRecordError it does not decode with.
   */
  private decodeAll(read: ReadonlyArray<{ commonName: string; fields: RecordFields }>): Promise<Array<CertificateRecord | UnreadableRecordError | undefined>> {
    return decodeEach(this.cas, read);
  }

  /** Names whose renewAt <= nowMs, earliest first, at most `limit`: O(log n + due). */
  async due(nowMs: number, limit: number): Promise<DueEntry[]> {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new QueueError('INVALID_ARGUMENT', `due limit must be a positive integer; got ${String(limit)}.`);
    }
    const flat = await this.redis.zrangebyscore(this.keys.renewIndex, '-inf', String(nowMs), 'WITHSCORES', 'LIMIT', 0, limit);
    const entries: Array<{ commonName: string; renewAtMs: number }> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const name = flat[i];
      const score = flat[i + 1];
      if (name !== undefined && score !== undefined) entries.push({ commonName: name, renewAtMs: Number(score) });
    }
    if (entries.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const e of entries) pipeline.hget(this.keys.cert(e.commonName), 'serial');
    const serials = (await pipeline.exec()) ?? [];
    const result: DueEntry[] = [];
    entries.forEach((e, i) => {
      const serial = serials[i]?.[1];
      if (typeof serial === 'string') result.push({ ...e, serialNumber: serial });
    });
    return result;
  }

  /** Live leaves per issuer at nowMs from the live-leaf index: O(issuers * log n), no record read (live-leaves.ts). */
  liveLeafCounts(nowMs: number): Promise<LiveLeafCounts> {
    return this.live.count(nowMs);
  }

  /** Indexes every record the live-leaf index misses (after an upgrade): reads every record once. */
  reindexLiveLeaves(): Promise<void> {
    return this.live.reindex();
  }

  /** A page of the names the live-leaf index holds for one issuer: O(log n + limit) (live-leaves.ts). */
  liveLeafNames(issuerId: string, nowMs: number, options: { readonly after?: LiveLeafCursor; readonly limit: number }): Promise<LiveLeafNamesPage> {
    return this.live.names(issuerId, nowMs, options);
  }

  /** The facts (name, serial, issuer, notAfter) of these names' current records, in one round trip. */
  leafFacts(names: readonly string[]): Promise<LeafFacts[]> {
    return this.live.facts(names);
  }

  /** Indexes these records' facts in the live-leaf index, each only while its name still holds that serial. */
  indexLiveLeaves(facts: readonly LeafFacts[]): Promise<void> {
    return this.live.index(facts);
  }

  async size(): Promise<number> {
    return this.redis.zcard(this.keys.names);
  }

  /** Remembers that requestId produced (commonName, serialNumber); put() can do this atomically. */
  async rememberRequest(requestId: string, commonName: string, serialNumber: string, ttlMs = DEFAULT_REQUEST_TTL_MS): Promise<void> {
    await this.redis.set(this.keys.request(requestId), requestMarker(commonName, serialNumber), 'PX', ttlMs);
  }

  /**
   * The certificate a request id already produced, for a retried job: the current record of its
   * name when that record is the one issued for it or its direct successor (rotated since).
   */
  async findByRequestId(requestId: string): Promise<CertificateRecord | undefined> {
    const value = await this.redis.get(this.keys.request(requestId));
    const marker = value === null ? undefined : parseRequestMarker(value);
    if (marker === undefined) return undefined;
    const record = await this.get(marker.commonName);
    if (record === undefined) return undefined;
    return answersMarker(record, marker.serialNumber) ? record : undefined;
  }

  /** The certificates an issue result names, in one round trip: each only while its name still holds that serial (stored-records.ts). */
  readStored(names: readonly StoredName[]): Promise<StoredRead[]> {
    return readStoredRecords(this.redis, this.keys, names, (read) => this.decodeAll(read));
  }

  async setTrustBundle(input: TrustBundleInput): Promise<TrustBundleRecord> {
    const bundle = this.bundleOf(input);
    await this.redis.set(this.keys.trustBundle, JSON.stringify(bundle));
    return bundle;
  }

  /** The stored form of a bundle, validated like every record before it is written. */
  private bundleOf(input: TrustBundleInput): TrustBundleRecord {
    return parseStored(
      trustBundleRecordSchema,
      {
        version: 1,
        issuingCaPem: input.issuingCaPem,
        trustedCasPem: [...input.trustedCasPem],
        rootNotAfter: typeof input.rootNotAfter === 'string' ? input.rootNotAfter : input.rootNotAfter.toISOString(),
        updatedAt: this.now().toISOString(),
      },
      'Trust bundle',
    );
  }

  /**
   * Stores the bundle and returns the one it replaced, in one command (SET … GET), so of two
   * replicas publishing the same change at once exactly one sees the old bundle and announces it.
   */
  async swapTrustBundle(input: TrustBundleInput): Promise<{ readonly bundle: TrustBundleRecord; readonly previous: TrustBundleRecord | undefined }> {
    const bundle = this.bundleOf(input);
    const json = await this.redis.set(this.keys.trustBundle, JSON.stringify(bundle), 'GET');
    let previous: TrustBundleRecord | undefined;
    try {
      previous = json === null ? undefined : parseStored(trustBundleRecordSchema, parseJson(json, 'Trust bundle'), 'Trust bundle');
    } catch {
      // An unreadable previous bundle counts as none: the new one replaced it and is announced.
      previous = undefined;
    }
    return { bundle, previous };
  }

  async getTrustBundle(): Promise<TrustBundleRecord | undefined> {
    const json = await this.redis.get(this.keys.trustBundle);
    return json === null ? undefined : parseStored(trustBundleRecordSchema, parseJson(json, 'Trust bundle'), 'Trust bundle');
  }
}

/**
 * Decodes hashes as read, loading the CA entries they refer to first: per hash its record,
 * undefined when absent, or the UnreadableRecordError it does not decode with. Shared by the
 * inventory's reads and the health scans (overdue.ts).
 */
export async function decodeEach(cas: CaEntries, read: ReadonlyArray<{ commonName: string; fields: RecordFields }>): Promise<Array<CertificateRecord | UnreadableRecordError | undefined>> {
  await cas.load(read.map((r) => r.fields.ca));
  return read.map(({ commonName, fields }) => {
    try {
      return decodeRecord(commonName, fields, cas.of);
    } catch (error) {
      if (!(error instanceof UnreadableRecordError)) throw error;
      return error;
    }
  });
}
