// Live leaves per issuing root without reading the inventory. The root rotation publishes how many
// unexpired leaves chain to each root (GET /v1/ca/rotation, `fsm-certs ca rotation status`, the
// gateway's metrics); counting them by reading every record cost O(inventory) per count (a minute
// of the lease holder at a million certificates). Instead every script that stores or removes a
// record keeps one more sorted set, `<prefix>:inv:live`: member = common name (a name has one
// current record, so a replacement is a plain ZADD and needs nothing of the record it replaces),
// score = the issuer's slot * 10^10 + the leaf's notAfter in epoch seconds. A leaf stops being live
// at notAfter with no event; the score answers "live at time t" with one ZCOUNT per issuer, O(log
// n). Slots are small integers given out once per issuer id (hash `<prefix>:inv:live-issuers`),
// so the count costs O(issuers * log n): a handful of roots in a deployment's lifetime.
//
// Upgrades: records stored by a version without the index are not in it. `#ready` in the issuers
// hash says every record was indexed once; until then, and whenever the index holds fewer or more
// names than the name index (a replica of the previous version stored or deleted records during a
// rolling upgrade), count() says it is incomplete and the caller runs reindex(), which reads every
// record once (as the count did before) and adds what is missing. A record an older replica
// *replaced* keeps its previous index entry until the name is written again or reindexed: so the
// root rotation lists the leaves to move from here, but reads each listed record before acting on
// it, and reads every record once before it drops a root (libs/issuance root-rotation).
import type { Redis } from 'ioredis';
import type { Keyspace } from '../keys.js';
import { luaScript, runScript } from '../redis/run-script.js';
import { CaEntries } from './ca-entries.js';
import type { Inventory } from './inventory.js';
import { RECORD_FIELDS, fieldsOf, leafFactsOf, type LeafFacts } from './record-codec.js';

/** Scores are slot * SLOT_SPAN + notAfter seconds; a later notAfter (past 2286) counts as that instant. */
const SLOT_SPAN = 1e10;
const MAX_NOT_AFTER_S = SLOT_SPAN - 1;

/** A leaf's notAfter as the index stores it: whole seconds, rounded up (a fraction only ever counts it live longer). */
export function indexedNotAfter(notAfterMs: number): string {
  return String(Math.min(MAX_NOT_AFTER_S, Math.max(0, Math.ceil(notAfterMs / 1000))));
}

/**
 * Lua defining `liveScore(issuerId, notAfterSeconds)`, a record's score in the index, and
 * `liveAdd(issuerId, notAfterSeconds, commonName)`, which indexes a record: every script that
 * stores one indexes it in the same atomic step (a batch may send its scores in one ZADD). The
 * arguments are Lua expressions for the index and issuers keys. Slots are cached per call, so a
 * batch of one issuer reads the hash once.
 */
export function liveIndexLua(live: string, issuers: string): string {
  return `local liveSlots = {}
local function liveScore(issuer, notAfter)
  local slot = liveSlots[issuer]
  if not slot then
    slot = redis.call('HGET', ${issuers}, 'i:' .. issuer)
    if not slot then
      slot = redis.call('HINCRBY', ${issuers}, '#next', 1)
      redis.call('HSET', ${issuers}, 'i:' .. issuer, slot)
    end
    slot = tonumber(slot)
    liveSlots[issuer] = slot
  end
  return string.format('%.0f', slot * ${SLOT_SPAN} + tonumber(notAfter))
end
local function liveAdd(issuer, notAfter, name)
  redis.call('ZADD', ${live}, liveScore(issuer, notAfter), name)
end`;
}

/**
 * KEYS: live index, issuers, names. ARGV: now in epoch seconds (floor).
 * Returns {ready (1|0), names count, indexed count, then per issuer with live leaves: id, count}.
 * A leaf is live while notAfter > now: notAfterSeconds > floor(now) for whole seconds.
 */
const COUNT_SCRIPT = luaScript(`
local now = tonumber(ARGV[1])
local out = {redis.call('HEXISTS', KEYS[2], '#ready'), redis.call('ZCARD', KEYS[3]), redis.call('ZCARD', KEYS[1])}
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do
  local field = all[i]
  if string.sub(field, 1, 2) == 'i:' then
    local base = tonumber(all[i + 1]) * ${SLOT_SPAN}
    local n = redis.call('ZCOUNT', KEYS[1], '(' .. string.format('%.0f', base + now), '(' .. string.format('%.0f', base + ${SLOT_SPAN}))
    if n > 0 then
      out[#out + 1] = string.sub(field, 3)
      out[#out + 1] = n
    end
  end
end
return out
`);

/**
 * Indexes records read by reindex(), each only while its name still holds the serial read (a
 * record replaced in between was indexed by its own writer).
 * KEYS: live index, issuers, then per record its cert hash. ARGV per record: serial, issuer id,
 * notAfter seconds, common name. Returns how many were (re)indexed.
 */
const INDEX_PAGE_SCRIPT = luaScript(`
${liveIndexLua('KEYS[1]', 'KEYS[2]')}
local n = 0
for i = 3, #KEYS do
  local a = (i - 3) * 4
  if redis.call('HGET', KEYS[i], 'serial') == ARGV[a + 1] then
    liveAdd(ARGV[a + 2], ARGV[a + 3], ARGV[a + 4])
    n = n + 1
  end
end
return n
`);

/**
 * Drops index entries whose name is no longer in the name index (deleted by a version without
 * the index). KEYS: live index, names. ARGV: first rank, count. Returns {entries read, removed}.
 */
const PRUNE_PAGE_SCRIPT = luaScript(`
local members = redis.call('ZRANGE', KEYS[1], ARGV[1], tonumber(ARGV[1]) + tonumber(ARGV[2]) - 1)
local removed = 0
for _, name in ipairs(members) do
  if not redis.call('ZSCORE', KEYS[2], name) then
    redis.call('ZREM', KEYS[1], name)
    removed = removed + 1
  end
end
return {#members, removed}
`);

/**
 * A page of the names indexed as live leaves of one issuer, in index order (notAfter, then name).
 * KEYS: live index, issuers. ARGV: issuer id, now in epoch seconds (floor), the last name of the
 * previous page ('' for the first), its score, page size. The page starts right after that name
 * when it is still where it was (ZRANK, O(log n)); when it moved or went since, at the first entry
 * with its score (a name of equal score may come twice, none is skipped). ZRANGE by rank is
 * O(log n + page): no offset is walked, so listing k leaves costs O(k + pages * log n). Scores are
 * not fetched per name: the slot's last rank bounds the range.
 * Returns {done (1|0), score of the page's last name, {names}}.
 */
const LIST_PAGE_SCRIPT = luaScript(`
local slot = redis.call('HGET', KEYS[2], 'i:' .. ARGV[1])
if not slot then return {1, '', {}} end
local base = tonumber(slot) * ${SLOT_SPAN}
local limit = tonumber(ARGV[5])
local lastRank = redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. string.format('%.0f', base + ${SLOT_SPAN})) - 1
local start
if ARGV[3] ~= '' and redis.call('ZSCORE', KEYS[1], ARGV[3]) == ARGV[4] then
  start = redis.call('ZRANK', KEYS[1], ARGV[3]) + 1
else
  local from = base + tonumber(ARGV[2])
  if ARGV[3] ~= '' and tonumber(ARGV[4]) > from then from = tonumber(ARGV[4]) - 1 end
  start = redis.call('ZCOUNT', KEYS[1], '-inf', string.format('%.0f', from))
end
local stop = math.min(start + limit - 1, lastRank)
if stop < start then return {1, '', {}} end
local names = redis.call('ZRANGE', KEYS[1], start, stop)
return {stop == lastRank and 1 or 0, redis.call('ZSCORE', KEYS[1], names[#names]), names}
`);

export interface LiveLeafNamesPage {
  readonly names: readonly string[];
  /** Where the next page starts; absent on the last page. */
  readonly next?: LiveLeafCursor;
}

/** Opaque to callers: the last entry of a page. */
export interface LiveLeafCursor {
  readonly name: string;
  readonly score: string;
}

export interface LiveLeafCounts {
  /** Live leaves per issuer id, as the index holds them (issuers without one are absent). */
  readonly byIssuer: ReadonlyMap<string, number>;
  /**
   * False while the index may miss records: before the first reindex() after an upgrade, or when
   * it holds another number of names than the inventory (a previous version's writes).
   */
  readonly complete: boolean;
}

const PAGE = 1_000;
/** The largest page names() lists: one script call and a reply of ~200 KB. */
export const MAX_LIVE_LEAF_NAMES_PAGE = 5_000;

export class LiveLeaves {
  private readonly cas: CaEntries;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
    private readonly inventory: Pick<Inventory, 'leaves'>,
  ) {
    this.cas = new CaEntries(redis, keys);
  }

  /**
   * One page of the names the index holds as live leaves of `issuerId` at nowMs: one round trip,
   * O(log n + limit). The index may be stale for a name an older replica replaced (see the file's
   * head): read the record (facts()) before acting on a name.
   */
  async names(issuerId: string, nowMs: number, options: { readonly after?: LiveLeafCursor; readonly limit: number }): Promise<LiveLeafNamesPage> {
    const limit = options.limit;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIVE_LEAF_NAMES_PAGE) throw new RangeError(`live-leaf page size must be an integer 1..${MAX_LIVE_LEAF_NAMES_PAGE}; got ${String(limit)}`);
    const reply = await runScript(
      this.redis,
      LIST_PAGE_SCRIPT,
      [this.keys.liveIndex, this.keys.liveIssuers],
      [issuerId, String(Math.floor(nowMs / 1000)), options.after?.name ?? '', options.after?.score ?? '', String(limit)],
    );
    const [done, lastScore, listed]: unknown[] = Array.isArray(reply) ? reply : [1];
    const names = Array.isArray(listed) ? listed.filter((name): name is string => typeof name === 'string') : [];
    const lastName = names[names.length - 1];
    return done === 1 || lastName === undefined || typeof lastScore !== 'string' ? { names } : { names, next: { name: lastName, score: lastScore } };
  }

  /**
   * The current records of these names, as facts (name, serial, issuer, notAfter): one pipelined
   * round trip. Absent names and records whose facts do not read are left out, as leaves() does.
   */
  async facts(names: readonly string[]): Promise<LeafFacts[]> {
    if (names.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const name of names) pipeline.hmgetBuffer(this.keys.cert(name), ...RECORD_FIELDS);
    const replies = (await pipeline.exec()) ?? [];
    const read = names.map((commonName, i) => {
      const [error, value] = replies[i] ?? [null, null];
      if (error) throw error;
      return { commonName, fields: fieldsOf(value) };
    });
    await this.cas.load(read.map((r) => r.fields.ca));
    const out: LeafFacts[] = [];
    for (const { commonName, fields } of read) {
      const facts = leafFactsOf(commonName, fields, this.cas.of);
      if (facts !== undefined) out.push(facts);
    }
    return out;
  }

  /** Live leaves per issuer at nowMs: one round trip, O(issuers * log n). */
  async count(nowMs: number): Promise<LiveLeafCounts> {
    const reply = await runScript(this.redis, COUNT_SCRIPT, [this.keys.liveIndex, this.keys.liveIssuers, this.keys.names], [String(Math.floor(nowMs / 1000))]);
    const flat = Array.isArray(reply) ? reply : [];
    const byIssuer = new Map<string, number>();
    for (let i = 3; i + 1 < flat.length; i += 2) {
      const issuer: unknown = flat[i];
      const n: unknown = flat[i + 1];
      if (typeof issuer === 'string' && typeof n === 'number') byIssuer.set(issuer, n);
    }
    return { byIssuer, complete: flat[0] === 1 && flat[1] === flat[2] };
  }

  /**
   * Indexes these records as they are, each only while its name still holds the serial read: for
   * a reader that found the index disagreeing with a record (an older replica replaced it).
   */
  async index(facts: readonly LeafFacts[]): Promise<void> {
    for (let i = 0; i < facts.length; i += PAGE) {
      const page = facts.slice(i, i + PAGE);
      const keys = [this.keys.liveIndex, this.keys.liveIssuers, ...page.map((leaf) => this.keys.cert(leaf.commonName))];
      const args = page.flatMap((leaf) => [leaf.serialNumber, leaf.issuerId, indexedNotAfter(leaf.notAfterMs), leaf.commonName]);
      await runScript(this.redis, INDEX_PAGE_SCRIPT, keys, args);
    }
  }

  /**
   * Reads every record once and indexes it, drops entries of names no longer stored, and marks
   * the index complete: O(inventory), run at the first start after an upgrade and when count()
   * finds the index incomplete. Records whose issuer or notAfter do not read stay unindexed.
   */
  async reindex(): Promise<void> {
    let cursor: string | undefined;
    // Bounded: a page per iteration over a finite name index; stops at a repeated cursor.
    for (let pages = 0; pages < 1_000_000; pages += 1) {
      const page = await this.inventory.leaves({ limit: PAGE, ...(cursor === undefined ? {} : { cursor }) });
      await this.index(page.items);
      if (page.nextCursor === undefined || page.nextCursor === cursor) break;
      cursor = page.nextCursor;
    }
    let rank = 0;
    for (let pages = 0; pages < 1_000_000; pages += 1) {
      const reply = await runScript(this.redis, PRUNE_PAGE_SCRIPT, [this.keys.liveIndex, this.keys.names], [String(rank), String(PAGE)]);
      const [read, removed] = Array.isArray(reply) ? reply.map(Number) : [0, 0];
      if (read === undefined || removed === undefined || read < PAGE) break;
      rank += read - removed;
    }
    await this.redis.hset(this.keys.liveIssuers, '#ready', '1');
  }
}
