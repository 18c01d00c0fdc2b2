// The audit trail in Redis: a hash of record id -> JSON and a sorted set of ids (all scores 0,
// so ids, which start with their zero-padded epoch milliseconds, sort by time and page by
// ZRANGEBYLEX). Kept by time, not count: every append drops what is older than the retention,
// in the same script, so the trail never grows past what the retention covers.
import type { Redis } from 'ioredis';
import { auditRecordSchema, type AuditOutcome, type AuditRecord } from '@fsm-certs/api';
import { pooledRandomUint } from '@fsm-certs/x509';
import { QueueError } from '../errors.js';
import { DEFAULT_PREFIX, keyspace, type Keyspace } from '../keys.js';
import { luaScript, runScript } from '../redis/run-script.js';
import { checkAuditRecord } from './audit-record-check.js';

/**
 * KEYS: index, records. ARGV: cutoff id ("(<13 digits>" exclusive bound), then id, json pairs.
 * The records of one or many decisions in one call (the gateway writes a batch's records
 * together, before any of its answers). Trims at most 1000 expired records per call.
 */
/**
 * Lua that drops the audit trail's records older than the cutoff (at most 1000 per call), leaving
 * their ids in the local `old`: every script that appends to the trail trims it the same way.
 * The arguments are Lua expressions: the index key, the records key, the cutoff argument.
 */
export function auditTrimLua(index: string, records: string, cutoff: string): string {
  return `local old = redis.call('ZRANGEBYLEX', ${index}, '-', ${cutoff}, 'LIMIT', 0, 1000)
if #old > 0 then
  redis.call('HDEL', ${records}, unpack(old))
  redis.call('ZREM', ${index}, unpack(old))
end`;
}

const APPEND_MANY = luaScript(`
local n = (#ARGV - 1) / 2
local fields = {}
local members = {}
for i = 1, n do
  local id = ARGV[2 * i]
  fields[2 * i - 1] = id
  fields[2 * i] = ARGV[2 * i + 1]
  members[2 * i - 1] = 0
  members[2 * i] = id
end
redis.call('HSET', KEYS[2], unpack(fields))
redis.call('ZADD', KEYS[1], unpack(members))
${auditTrimLua('KEYS[1]', 'KEYS[2]', 'ARGV[1]')}
return #old
`);

/** Records per APPEND_MANY call: bounds the script's argument list (Lua's unpack stack). */
const APPEND_CHUNK = 500;

export interface AuditFilter {
  readonly name?: string;
  readonly caller?: string;
  readonly outcome?: AuditOutcome;
  /** Epoch ms, inclusive. */
  readonly sinceMs?: number;
  /** Epoch ms, exclusive. */
  readonly untilMs?: number;
  readonly limit: number;
  /** The last id of the previous page. */
  readonly cursor?: string;
}

export interface AuditLogOptions {
  readonly prefix?: string;
  /** How long a record is kept (ms). */
  readonly retentionMs: number;
  readonly now?: () => number;
}

const pad = (ms: number): string => String(Math.max(0, Math.floor(ms))).padStart(13, '0');

/** The audit trail's default retention, 720h (GATEWAY_AUDIT_RETENTION's default), for every writer of the trail. */
export const DEFAULT_AUDIT_RETENTION_MS = 720 * 3600 * 1000;

/** The exclusive ZRANGEBYLEX bound below which records are past their retention. */
export function auditCutoff(nowMs: number, retentionMs: number): string {
  return `(${pad(nowMs - retentionMs)}`;
}
let sequence = 0;
const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** newId's scratch: 13 digits of time, '-', 6 hex digits of sequence, 6 random hex digits. */
const ID_TEXT = Buffer.from('0000000000000-000000000000', 'latin1');
const hex6 = (n: number): string => n.toString(16).padStart(6, '0');
/** Ids read per round trip while filtering. */
const SCAN = 500;

export class AuditLog {
  private readonly keys: Keyspace;
  private readonly now: () => number;

  constructor(
    private readonly redis: Redis,
    private readonly options: AuditLogOptions,
  ) {
    this.keys = keyspace(options.prefix ?? DEFAULT_PREFIX);
    this.now = options.now ?? Date.now;
  }

  /**
   * A fresh id for a record made at `atMs`: the time, then a counter so records of one process
   * in the same millisecond keep their order, then random bits so replicas' ids never collide.
   */
  static newId(atMs: number): string {
    sequence = (sequence + 1) % 0x1000000;
    // Three random bytes from the shared CSPRNG pool (a randomBytes call per record would be a
    // call into the CSPRNG each time).
    const random = pooledRandomUint(3);
    const ms = Math.floor(atMs);
    // A time outside 13 digits (or not a number) is spelt by pad(), as the id always was.
    if (!(ms >= 0 && ms < 1e13)) return `${pad(atMs)}-${hex6(sequence)}${hex6(random)}`;
    // The id written as bytes and read once: one flat 26-character string, where a template of
    // padded parts made a chain of strings that was flattened when the record was written.
    let rest = ms;
    for (let i = 12; i >= 0; i -= 1) {
      ID_TEXT[i] = 48 + (rest % 10);
      rest = Math.floor(rest / 10);
    }
    for (let i = 0; i < 3; i += 1) {
      const s = (sequence >> (16 - 8 * i)) & 0xff;
      const r = (random >> (16 - 8 * i)) & 0xff;
      ID_TEXT[14 + 2 * i] = HEX[s >> 4] ?? 0;
      ID_TEXT[15 + 2 * i] = HEX[s & 0x0f] ?? 0;
      ID_TEXT[20 + 2 * i] = HEX[r >> 4] ?? 0;
      ID_TEXT[21 + 2 * i] = HEX[r & 0x0f] ?? 0;
    }
    return ID_TEXT.toString('latin1');
  }

  /**
   * A record of a change to the CA itself (trust bundle, root rotation stage): no client, request
   * or certificate fields, only when, what, who asked (if anyone) and the issuer it concerns.
   */
  static caRecord(fields: Pick<AuditRecord, 'outcome' | 'operation' | 'provider' | 'issuerId'> & { atMs: number; caller?: string; notAfter?: string }): AuditRecord {
    return {
      id: AuditLog.newId(fields.atMs),
      at: new Date(fields.atMs).toISOString(),
      outcome: fields.outcome,
      operation: fields.operation,
      caller: fields.caller ?? null,
      clientAddress: null,
      requestId: null,
      commonName: null,
      names: [],
      serialNumber: null,
      notBefore: null,
      notAfter: fields.notAfter ?? null,
      keyAlgorithm: null,
      provider: fields.provider,
      issuerId: fields.issuerId,
      code: null,
      status: null,
    };
  }

  /** Validates and stores one record; resolves once Redis has it. */
  append(record: AuditRecord): Promise<void> {
    return this.appendMany([record]);
  }

  /**
   * Validates every record, then stores them all with one script call per 500: resolves once
   * Redis has every one; nothing is written when any record is invalid.
   */
  async appendMany(records: readonly AuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    const cutoff = auditCutoff(this.now(), this.options.retentionMs);
    const calls: Array<Promise<unknown>> = [];
    const keys = [this.keys.auditIndex, this.keys.auditRecords];
    const jsons: Array<[string, string]> = [];
    for (const record of records) {
      const parsed = checkAuditRecord(record);
      if (!parsed.success) throw new QueueError('INVALID_ARGUMENT', `Audit record rejected: ${parsed.error.issues[0]?.message ?? 'invalid'}.`, { cause: parsed.error });
      jsons.push([record.id, JSON.stringify(parsed.data)]);
    }
    for (let start = 0; start < jsons.length; start += APPEND_CHUNK) {
      const chunk = [cutoff];
      for (const [id, json] of jsons.slice(start, start + APPEND_CHUNK)) chunk.push(id, json);
      calls.push(runScript(this.redis, APPEND_MANY, keys, chunk));
    }
    await Promise.all(calls);
  }

  /** Records matching the filter, oldest first, and the cursor of the next page. */
  async query(filter: AuditFilter): Promise<{ items: AuditRecord[]; nextCursor: string | undefined }> {
    const retained = this.now() - this.options.retentionMs;
    const since = Math.max(filter.sinceMs ?? 0, retained);
    let start = filter.cursor === undefined ? `[${pad(since)}` : `(${filter.cursor}`;
    if (filter.cursor !== undefined && filter.cursor < pad(since)) start = `[${pad(since)}`;
    const end = filter.untilMs === undefined ? '+' : `(${pad(filter.untilMs)}`;
    const name = filter.name?.toLowerCase();
    const items: AuditRecord[] = [];
    for (let round = 0; round < 200 && items.length < filter.limit; round++) {
      const ids = await this.redis.zrangebylex(this.keys.auditIndex, start, end, 'LIMIT', 0, SCAN);
      if (ids.length === 0) break;
      const values = await this.redis.hmget(this.keys.auditRecords, ...ids);
      for (let i = 0; i < ids.length && items.length < filter.limit; i++) {
        const id = ids[i] ?? '';
        start = `(${id}`;
        const json = values[i];
        if (json === null || json === undefined) continue;
        const record = auditRecordSchema.safeParse(JSON.parse(json));
        if (!record.success) continue;
        const r = record.data;
        if (filter.caller !== undefined && r.caller !== filter.caller) continue;
        if (filter.outcome !== undefined && r.outcome !== filter.outcome) continue;
        if (name !== undefined && !r.names.some((n) => n.toLowerCase() === name) && r.commonName?.toLowerCase() !== name) continue;
        items.push(r);
      }
      if (ids.length < SCAN) break;
    }
    const last = items.at(-1);
    // Only a full page can have more after it.
    return { items, nextCursor: items.length === filter.limit && last !== undefined ? last.id : undefined };
  }
}
