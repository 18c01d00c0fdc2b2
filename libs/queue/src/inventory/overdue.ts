// What a health check asks of the inventory, without reading all of it: the certificates past
// their renew time, straight from the renew-time index (O(log n + overdue)), and a scan for
// records that do not decode. A record damaged outside our writers leaves no other trace, so the
// scan must look at every record; decoding each one (schema check) costs tens of microseconds,
// minutes at a million. So the scan remembers, in the record's own hash (field `v`), a digest of
// the exact fields that last decoded: Redis recomputes it (SHA-1 in Lua, a few microseconds) and
// only a record whose bytes changed since (renewed, damaged, written by another version) is sent
// here and decoded again. A digest describes content, so it can never vouch for content it was
// not computed from; writers need not know about it (a stale one only costs a decode).
//
// The digest is cut to 12 hex characters (48 bits), the most that fits Redis's 16-byte allocation
// for a hash value (the field name `v` fits the 8-byte one): it costs ~50 bytes in each of a
// million hashes instead of ~75. It only has to tell a changed record from the one that decoded;
// nobody chooses the bytes of a damaged record to collide with it (whoever can write Redis can
// write the digest as well), and a change goes unnoticed only if 48 bits of SHA-1 happen to
// agree, about once in 3 * 10^14 changes. Digests of earlier versions (field `verified`, 16
// characters) are never read: the first scan after an upgrade decodes every record once and
// removes them.
import type { Redis } from 'ioredis';
import type { CertificateRecord } from '../contracts/certificate-record.js';
import { QueueError } from '../errors.js';
import { DEFAULT_PREFIX, keyspace, type Keyspace } from '../keys.js';
import { luaScript, runScript, runScriptBuffer } from '../redis/run-script.js';
import { CaEntries } from './ca-entries.js';
import { decodeEach } from './inventory.js';
import { RECORD_FIELDS, UnreadableRecordError, decodeRecord, fieldsOf, type RecordFields } from './record-codec.js';

const MAX_PAGE = 1000;

export interface OverduePage {
  /** Records whose renewAt <= atMs, earliest renew time first (then by name). */
  readonly items: CertificateRecord[];
  /** Names in the overdue range whose stored record does not decode: left out of items. */
  readonly unreadable: readonly UnreadableRecordError[];
  /** Pass back as `cursor` for the next page; absent on the last page. */
  readonly nextCursor?: string;
}

export interface UnreadableScanPage {
  /** Records of this stretch of names that do not decode. */
  readonly unreadable: readonly UnreadableRecordError[];
  /** How many names this page looked at. */
  readonly scanned: number;
  readonly nextCursor?: string;
}

/**
 * A page of the renew index after the entry (lastScore, lastName), by rank: entries of equal score
 * sort by name (byte order), so a binary search over that run finds where the page starts even
 * when the cursor's own entry has left the index (renewed) or many share one score.
 * KEYS: renew index. ARGV: has cursor ('1'/'0'), lastScore, lastName, count.
 * Returns flat {name, score, ...}, at most count entries from the start, any score.
 */
const OVERDUE_PAGE_SCRIPT = luaScript(`
local key = KEYS[1]
local start = 0
if ARGV[1] == '1' then
  local last = ARGV[3]
  local function after(m)
    local n = math.min(#m, #last)
    for i = 1, n do
      local a, b = string.byte(m, i), string.byte(last, i)
      if a ~= b then return a > b end
    end
    return #m > #last
  end
  local lo = redis.call('ZCOUNT', key, '-inf', '(' .. ARGV[2])
  local hi = redis.call('ZCOUNT', key, '-inf', ARGV[2])
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local m = redis.call('ZRANGE', key, mid, mid)[1]
    if m == nil or after(m) then hi = mid else lo = mid + 1 end
  end
  start = lo
end
return redis.call('ZRANGE', key, start, start + tonumber(ARGV[4]) - 1, 'WITHSCORES')
`);

/** The hash field that holds the digest of the fields as they last decoded. */
export const VERIFIED_FIELD = 'v';

/** The digest of a record's fields as stored: 12 hex chars of SHA-1 over RECORD_FIELDS' values, in order. */
const DIGEST_LUA = `
local function digest(f)
  return string.sub(redis.sha1hex(f[1] .. '\\n' .. (f[2] or '') .. '\\n' .. (f[3] or '') .. '\\n' .. (f[4] or '')), 1, 12)
end
`;

/**
 * KEYS: the cert hashes of a page of names; ARGV: RECORD_FIELDS, VERIFIED_FIELD. Per hash whose digest still matches its
 * fields nothing comes back but its CA reference; per other hash (with a record) its position,
 * digest and fields. Returns {{pos, digest, record, previousSerial, serial, ca, ...}, {ca digests of verified records}}.
 */
const SCAN_SCRIPT = luaScript(`${DIGEST_LUA}
local changed = {}
local cas, seen = {}, {}
for i = 1, #KEYS do
  local f = redis.call('HMGET', KEYS[i], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
  if f[1] then
    local d = digest(f)
    if d == f[5] then
      if f[4] and not seen[f[4]] then
        seen[f[4]] = true
        cas[#cas + 1] = f[4]
      end
    else
      changed[#changed + 1] = i
      changed[#changed + 1] = d
      for j = 1, 4 do changed[#changed + 1] = f[j] end
    end
  end
end
return {changed, cas}
`);

/**
 * KEYS: cert hashes that decoded; ARGV: RECORD_FIELDS, VERIFIED_FIELD, then the digest each had when read. Stores
 * it only if the fields still hash to it (a writer may have replaced them since), and drops an
 * earlier version's `verified` digest. Returns how many it stored.
 */
const MARK_VERIFIED_SCRIPT = luaScript(`${DIGEST_LUA}
local n = 0
for i = 1, #KEYS do
  local f = redis.call('HMGET', KEYS[i], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
  if f[1] and digest(f) == ARGV[5 + i] then
    redis.call('HSET', KEYS[i], ARGV[5], ARGV[5 + i])
    redis.call('HDEL', KEYS[i], 'verified')
    n = n + 1
  end
end
return n
`);

/** `<renewAt ms>~<name>`: '~' is in no DNS name, so the first one splits. */
function overdueCursor(scoreMs: number, name: string): string {
  return `${scoreMs}~${name}`;
}

function parseOverdueCursor(cursor: string): { scoreMs: string; name: string } {
  const match = /^(-?\d{1,16})~(.+)$/.exec(cursor);
  if (match === null || match[1] === undefined || match[2] === undefined) {
    throw new QueueError('INVALID_ARGUMENT', `overdue cursor ${JSON.stringify(cursor)} is not one this inventory handed out; start again without a cursor.`);
  }
  return { scoreMs: match[1], name: match[2] };
}

function checkLimit(limit: number, what: string): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new QueueError('INVALID_ARGUMENT', `${what} limit must be an integer 1..${MAX_PAGE}; got ${String(limit)}.`);
  }
}

export class InventoryHealth {
  readonly keys: Keyspace;
  private readonly cas: CaEntries;

  constructor(
    private readonly redis: Redis,
    options: { readonly prefix?: string } = {},
  ) {
    this.keys = keyspace(options.prefix ?? DEFAULT_PREFIX);
    this.cas = new CaEntries(redis, this.keys);
  }

  /**
   * Certificates whose renew time is at or before atMs, `limit` per page (1..1000), earliest
   * first: O(log n + limit) per page. Stable while certificates are renewed (they leave the range)
   * or come due (they join it behind the cursor, or on a later check).
   */
  async overdue(options: { atMs: number; cursor?: string; limit: number }): Promise<OverduePage> {
    checkLimit(options.limit, 'overdue');
    const from = options.cursor === undefined || options.cursor === '' ? undefined : parseOverdueCursor(options.cursor);
    const flat = await runScript(this.redis, OVERDUE_PAGE_SCRIPT, [this.keys.renewIndex], [from === undefined ? '0' : '1', from?.scoreMs ?? '0', from?.name ?? '', String(options.limit + 1)]);
    const entries: Array<{ name: string; scoreMs: number }> = [];
    if (Array.isArray(flat)) {
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const name: unknown = flat[i];
        const scoreMs = Number(flat[i + 1]);
        if (typeof name !== 'string' || !(scoreMs <= options.atMs)) break;
        entries.push({ name, scoreMs });
      }
    }
    const page = entries.slice(0, options.limit);
    const items: CertificateRecord[] = [];
    const unreadable: UnreadableRecordError[] = [];
    for (const decoded of await this.readAll(page.map((e) => e.name))) {
      if (decoded instanceof UnreadableRecordError) unreadable.push(decoded);
      // Renewed between the two reads: no longer overdue. Deleted: gone.
      else if (decoded !== undefined && Date.parse(decoded.renewAt) <= options.atMs) items.push(decoded);
    }
    const last = page[page.length - 1];
    return entries.length > options.limit && last !== undefined ? { items, unreadable, nextCursor: overdueCursor(last.scoreMs, last.name) } : { items, unreadable };
  }

  /**
   * The records of the next `limit` names (1..1000, name order) that do not decode. O(limit) per
   * page and O(n) for the whole inventory, but only names travel back.
   */
  async unreadable(options: { cursor?: string; limit: number }): Promise<UnreadableScanPage> {
    checkLimit(options.limit, 'unreadable scan');
    const start = options.cursor === undefined || options.cursor === '' ? '-' : `(${options.cursor}`;
    const names = await this.redis.zrangebylex(this.keys.names, start, '+', 'LIMIT', 0, options.limit + 1);
    const page = names.slice(0, options.limit);
    const unreadable = await this.unreadableOf(page);
    const last = page[page.length - 1];
    return names.length > options.limit && last !== undefined ? { unreadable, scanned: page.length, nextCursor: last } : { unreadable, scanned: page.length };
  }

  /** The names of `page` whose record does not decode, decoding only records changed since they last did. */
  private async unreadableOf(page: readonly string[]): Promise<UnreadableRecordError[]> {
    if (page.length === 0) return [];
    const reply = await runScriptBuffer(this.redis, SCAN_SCRIPT, page.map((name) => this.keys.cert(name)), [...RECORD_FIELDS, VERIFIED_FIELD]);
    const [changedFlat, verifiedCas] = Array.isArray(reply) ? (reply as unknown[]) : [];
    const changed: Array<{ commonName: string; digest: string; fields: RecordFields }> = [];
    const flat = Array.isArray(changedFlat) ? (changedFlat as unknown[]) : [];
    for (let i = 0; i + 5 < flat.length; i += 6) {
      const commonName = page[Number(flat[i]) - 1];
      const digest = flat[i + 1];
      if (commonName === undefined || !Buffer.isBuffer(digest)) continue;
      changed.push({ commonName, digest: digest.toString('latin1'), fields: fieldsOf(flat.slice(i + 2, i + 6)) });
    }
    const cas = Array.isArray(verifiedCas) ? verifiedCas.filter((d): d is Buffer => Buffer.isBuffer(d)).map((d) => d.toString('utf8')) : [];
    await this.cas.load([...cas, ...changed.map((c) => c.fields.ca)]);
    // A record verified before still needs its CA entry: if one is gone, decode the page in full
    // so each record it breaks is named.
    if (cas.some((digest) => this.cas.of(digest) === undefined)) {
      return (await this.readAll(page)).filter((d): d is UnreadableRecordError => d instanceof UnreadableRecordError);
    }
    const unreadable: UnreadableRecordError[] = [];
    const decoded: Array<{ commonName: string; digest: string }> = [];
    for (const entry of changed) {
      try {
        decodeRecord(entry.commonName, entry.fields, this.cas.of);
        decoded.push(entry);
      } catch (error) {
        if (!(error instanceof UnreadableRecordError)) throw error;
        unreadable.push(error);
      }
    }
    if (decoded.length > 0) {
      await runScript(this.redis, MARK_VERIFIED_SCRIPT, decoded.map((d) => this.keys.cert(d.commonName)), [...RECORD_FIELDS, VERIFIED_FIELD, ...decoded.map((d) => d.digest)]);
    }
    return unreadable;
  }

  /** Per name its record, undefined when absent, or the UnreadableRecordError it fails with. */
  private async readAll(names: readonly string[]): Promise<Array<CertificateRecord | UnreadableRecordError | undefined>> {
    if (names.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const name of names) pipeline.hmgetBuffer(this.keys.cert(name), ...RECORD_FIELDS);
    const replies = (await pipeline.exec()) ?? [];
    const read: Array<{ commonName: string; fields: RecordFields }> = names.map((commonName, i) => {
      const [error, value] = replies[i] ?? [null, null];
      if (error) throw error;
      return { commonName, fields: fieldsOf(value) };
    });
    return decodeEach(this.cas, read);
  }
}
