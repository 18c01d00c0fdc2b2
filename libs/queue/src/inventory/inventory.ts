// The inventory: per common name the current certificate, a renew-time index so a sweep costs
// O(due), a name index for stable pagination, request-id markers for job idempotency, and the
// trust bundle. The source of truth the gateway reads without a queue hop.
import type { Redis } from 'ioredis';
import {
  certificateRecordSchema,
  trustBundleRecordSchema,
  type CertificateRecord,
  type TrustBundleRecord,
} from '../contracts/certificate-record.js';
import { parseStored } from '../contracts/parse.js';
import { QueueError } from '../errors.js';
import { DEFAULT_PREFIX, keyspace, type Keyspace } from '../keys.js';
import { runScript } from '../redis/run-script.js';
import { answersMarker, decodeRecord, parseJson, parseRequestMarker, requestMarker } from './record-codec.js';
import { DELETE_SCRIPT, PUT_SCRIPT } from './scripts.js';

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
}

export const DEFAULT_REQUEST_TTL_MS = 24 * 3600 * 1000;
const MAX_PAGE = 1000;

export class Inventory {
  readonly keys: Keyspace;
  private readonly now: () => Date;

  constructor(
    private readonly redis: Redis,
    options: InventoryOptions = {},
  ) {
    this.keys = keyspace(options.prefix ?? DEFAULT_PREFIX);
    this.now = options.now ?? (() => new Date());
  }

  async put(record: CertificateRecord, options: PutOptions = {}): Promise<PutResult> {
    const checked = certificateRecordSchema.safeParse(record);
    if (!checked.success) {
      const first = checked.error.issues[0];
      throw new QueueError(
        'RECORD_INVALID',
        `Refusing to store the certificate record for ${record.commonName}: ${first ? `${first.path.join('.')}: ${first.message}` : 'invalid'}. This is a bug in the caller.`,
        { cause: checked.error },
      );
    }
    const valid = checked.data;
    const { previousSerialNumber: _derived, ...stored } = valid;
    const renewAtMs = Date.parse(valid.renewAt);
    const requestIds = options.requestIds ?? [];
    const expect = options.expectSerial === undefined ? '' : options.expectSerial === null ? '-' : options.expectSerial;
    const reply = await runScript(
      this.redis,
      PUT_SCRIPT,
      [this.keys.cert(valid.commonName), this.keys.renewIndex, this.keys.names, ...requestIds.map((id) => this.keys.request(id))],
      [
        JSON.stringify(stored),
        valid.serialNumber,
        String(renewAtMs),
        valid.commonName,
        expect,
        String(options.requestTtlMs ?? DEFAULT_REQUEST_TTL_MS),
        requestMarker(valid.commonName, valid.serialNumber),
      ],
    );
    const [storedFlag, previous] = Array.isArray(reply) ? reply : [];
    return {
      stored: storedFlag === 1,
      previousSerialNumber: typeof previous === 'string' ? previous : undefined,
    };
  }

  async get(commonName: string): Promise<CertificateRecord | undefined> {
    const [json, previousSerial] = await this.redis.hmget(this.keys.cert(commonName), 'record', 'previousSerial');
    return this.decode(commonName, json ?? null, previousSerial ?? null);
  }

  /** Removes the name everywhere and returns what was removed (undefined if it was absent). */
  async delete(commonName: string): Promise<CertificateRecord | undefined> {
    const reply = await runScript(this.redis, DELETE_SCRIPT, [this.keys.cert(commonName), this.keys.renewIndex, this.keys.names], [commonName]);
    if (!Array.isArray(reply)) return undefined;
    const [json, previousSerial] = reply;
    return this.decode(commonName, typeof json === 'string' ? json : null, typeof previousSerial === 'string' ? previousSerial : null);
  }

  /** Records in name order, `limit` per page (1..1000); stable while names are added or removed. */
  async list(options: { cursor?: string; limit: number }): Promise<ListPage> {
    const limit = options.limit;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      throw new QueueError('INVALID_ARGUMENT', `list limit must be an integer 1..${MAX_PAGE}; got ${String(limit)}.`);
    }
    const start = options.cursor === undefined || options.cursor === '' ? '-' : `(${options.cursor}`;
    const names = await this.redis.zrangebylex(this.keys.names, start, '+', 'LIMIT', 0, limit + 1);
    const page = names.slice(0, limit);
    const pipeline = this.redis.pipeline();
    for (const name of page) pipeline.hmget(this.keys.cert(name), 'record', 'previousSerial');
    const replies = (await pipeline.exec()) ?? [];
    const items: CertificateRecord[] = [];
    page.forEach((name, i) => {
      const entry = replies[i];
      if (entry === undefined) return;
      const [error, value] = entry;
      if (error) throw error;
      const [json, previousSerial] = Array.isArray(value) ? value : [];
      // A name deleted between the two reads simply drops out of the page.
      const record = this.decode(name, typeof json === 'string' ? json : null, typeof previousSerial === 'string' ? previousSerial : null);
      if (record !== undefined) items.push(record);
    });
    const last = page[page.length - 1];
    return names.length > limit && last !== undefined ? { items, nextCursor: last } : { items };
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

  async setTrustBundle(input: TrustBundleInput): Promise<TrustBundleRecord> {
    const bundle = parseStored(
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
    await this.redis.set(this.keys.trustBundle, JSON.stringify(bundle));
    return bundle;
  }

  async getTrustBundle(): Promise<TrustBundleRecord | undefined> {
    const json = await this.redis.get(this.keys.trustBundle);
    return json === null ? undefined : parseStored(trustBundleRecordSchema, parseJson(json, 'Trust bundle'), 'Trust bundle');
  }

  private decode(commonName: string, json: string | null, previousSerial: string | null): CertificateRecord | undefined {
    return decodeRecord(commonName, json, previousSerial);
  }
}
