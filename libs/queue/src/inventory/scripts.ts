// Lua scripts for the inventory. Every key is passed in KEYS (never built inside the script) and
// all share the prefix's hash tag, so the scripts stay legal on Redis Cluster.
import { luaScript } from '../redis/run-script.js';
import { auditTrimLua } from '../audit/audit-log.js';
import { liveIndexLua } from './live-leaves.js';

/**
 * KEYS: cert hash, renew index, names, CA entry, live index, live issuers, request keys...
 * ARGV: record JSON, serial, renewAt ms, commonName, expected serial ('' = any, '-' = none yet),
 *       request TTL ms, request value, CA digest, CA entry JSON, issuer id, notAfter seconds
 * Returns {stored (1|0), current-or-previous serial or false}.
 */
export const PUT_SCRIPT = luaScript(`
${liveIndexLua('KEYS[5]', 'KEYS[6]')}
local cur = redis.call('HGET', KEYS[1], 'serial')
local expect = ARGV[5]
if expect ~= '' then
  if (expect == '-' and cur) or (expect ~= '-' and cur ~= expect) then
    return {0, cur}
  end
end
if cur and cur ~= ARGV[2] then
  redis.call('HSET', KEYS[1], 'previousSerial', cur)
end
redis.call('SET', KEYS[4], ARGV[9], 'NX')
redis.call('HSET', KEYS[1], 'record', ARGV[1], 'serial', ARGV[2], 'ca', ARGV[8])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('ZADD', KEYS[3], 0, ARGV[4])
liveAdd(ARGV[10], ARGV[11], ARGV[4])
for i = 7, #KEYS do
  redis.call('SET', KEYS[i], ARGV[7], 'PX', ARGV[6])
end
return {1, cur}
`);

/**
 * KEYS: cert hash, renew index, names, live index. ARGV: commonName, and the serial it must still hold ('' =
 * any). Returns {record JSON, previousSerial, serial, CA digest} of what was deleted (as RECORD_FIELDS),
 * false when absent, or 0 when it holds another serial (nothing deleted).
 */
export const DELETE_SCRIPT = luaScript(`
local fields = redis.call('HMGET', KEYS[1], 'record', 'previousSerial', 'serial', 'ca')
if not fields[1] and not fields[3] then return false end
if ARGV[2] ~= nil and ARGV[2] ~= '' and fields[3] ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
return fields
`);

/**
 * Lua defining `variadic(command, key, args)`: `command key args...` in one call, or one per
 * 1,000 arguments (Lua's unpack is bounded by its stack); nothing when args is empty. For
 * commands whose arguments come in pairs, each call takes whole pairs.
 */
const VARIADIC_LUA = `local function variadic(command, key, args)
  for i = 1, #args, 1000 do
    redis.call(command, key, unpack(args, i, math.min(i + 999, #args)))
  end
end`;

/**
 * Reads what an issue batch needs to decide, in one round trip.
 * KEYS: per item its request key, then its cert hash.
 * Returns, per item, five entries: request marker, record JSON, previousSerial, serial, CA digest
 * (each or false).
 */
export const LOOKUP_BATCH_SCRIPT = luaScript(`
local out = {}
for i = 1, #KEYS, 2 do
  local fields = redis.call('HMGET', KEYS[i + 1], 'record', 'previousSerial', 'serial', 'ca')
  out[#out + 1] = redis.call('GET', KEYS[i])
  out[#out + 1] = fields[1]
  out[#out + 1] = fields[2]
  out[#out + 1] = fields[3]
  out[#out + 1] = fields[4]
end
return out
`);

/**
 * Applies an issue batch's writes, each under its own compare-and-set, in one round trip; a
 * write whose check fails changes nothing. A stored certificate, the request ids it answers and
 * its announcement are one atomic step, so no crash can leave a stored cert unannounced.
 * KEYS: renew index, names, event stream, live index, live issuers; then the batch's CA entries;
 *   then per write its keys.
 * ARGV: request TTL ms, stream max length, write count, CA entry count, per CA entry its digest
 *   and its JSON ('' when the writer knows it is stored: the script then only checks that it
 *   is, and refuses the whole batch with NOCAENTRY, writing nothing, when it is not); issuer
 *   count, each issuer id; then per write its fields:
 *   store:        KEYS cert hash, request keys...; ARGV a header, the record, commonName, event
 *                 JSON. The header is one argument of eight space-separated fields (each
 *                 argument costs the writer ~150 bytes of garbage to send, whatever its size):
 *                 's' or 'n', serial, renewAt ms, expected serial ('-' = none yet), request key
 *                 count, the CA entry's number and the issuer's number in the lists above,
 *                 notAfter seconds (live-leaves.ts). The request marker stored under each
 *                 request key is requestMarker's `<serial> <commonName>`.
 *   'n' store if new: as 's', and only while none of its request keys exists either (a write
 *                 made without looking first: a request id answered before is decided again).
 *                 A lone request key is checked by the SET NX that stores its marker.
 *   'r' remember: KEYS cert hash, request key; ARGV 'r', serial that must be current, marker
 * The announcements are trimmed (XTRIM MAXLEN ~) once per call that added any, not per XADD.
 * Each index (renew, names, live; the audit trail's index and records) takes one variadic
 * command per call for all of the call's stored writes, not one per certificate: each redis.call
 * costs Redis its own dispatch and the AOF its own command header. Members are added in write
 * order, so a name stored twice in one call ends with its last score, as one ZADD per write did.
 * CA entries are content-addressed and written only if absent: a batch sends each distinct one
 * once, and rewriting an existing one changes nothing (nor the AOF).
 * After the writes (KEYS and ARGV continue where the last write's end): the audit trail's index
 *   and records keys; ARGV audit entry count, retention cutoff ("(<13 digits>"), then per entry
 *   the write's number, the record's id and JSON. An entry is stored only with its applied write,
 *   so a record names only a certificate that was stored; records past the retention are trimmed
 *   (at most 1000 per call), as AuditLog.appendMany does.
 * Every CA entry and header is checked before anything is written: a refused batch writes nothing.
 * Returns per write 1 (applied) or 0 (the current serial was not the expected one).
 */
export const COMMIT_BATCH_SCRIPT = luaScript(`
${liveIndexLua('KEYS[4]', 'KEYS[5]')}
${VARIADIC_LUA}
local ttl, maxlen = ARGV[1], ARGV[2]
local nwrites, nca = tonumber(ARGV[3]), tonumber(ARGV[4])
for c = 1, nca do
  if ARGV[4 + 2 * c] == '' and redis.call('EXISTS', KEYS[5 + c]) == 0 then
    return redis.error_reply('NOCAENTRY ' .. ARGV[3 + 2 * c])
  end
end
local issuers = 5 + 2 * nca
local nissuers = tonumber(ARGV[issuers])
local first = issuers + 1 + nissuers
local headers = {}
local k, a = 6 + nca, first
for w = 1, nwrites do
  if ARGV[a] ~= 'r' then
    local h = {string.match(ARGV[a], '^([sn]) (%S+) (%S+) (%S+) (%d+) (%d+) (%d+) (%S+)$')}
    if h[1] == nil or tonumber(h[6]) < 1 or tonumber(h[6]) > nca or tonumber(h[7]) < 1 or tonumber(h[7]) > nissuers then
      return redis.error_reply('ERR malformed store write header ' .. w)
    end
    headers[w] = h
    k = k + 1 + tonumber(h[5])
    a = a + 4
  else
    k = k + 2
    a = a + 3
  end
end
for c = 1, nca do
  if ARGV[4 + 2 * c] ~= '' then redis.call('SET', KEYS[5 + c], ARGV[4 + 2 * c], 'NX') end
end
k, a = 6 + nca, first
local out = {}
local announced = false
local renews, names, lives = {}, {}, {}
for w = 1, nwrites do
  local cur = redis.call('HGET', KEYS[k], 'serial')
  local h = headers[w]
  if h then
    local kind, serial, renew, expect, nreq, notafter = h[1], h[2], h[3], h[4], tonumber(h[5]), h[8]
    local cn = ARGV[a + 2]
    local blocked = (expect == '-' and cur) or (expect ~= '-' and cur ~= expect)
    local marker = serial .. ' ' .. cn
    -- A lone request key of a store-if-new write is checked and set in one call (SET NX),
    -- before anything else is written, so a refused write still changes nothing.
    local markerSet = false
    if kind == 'n' and not blocked then
      if nreq == 1 then
        blocked = not redis.call('SET', KEYS[k + 1], marker, 'PX', ttl, 'NX')
        markerSet = not blocked
      else
        for i = 1, nreq do
          if redis.call('EXISTS', KEYS[k + i]) == 1 then blocked = true end
        end
      end
    end
    if blocked then
      out[w] = 0
    else
      if cur and cur ~= serial then
        redis.call('HSET', KEYS[k], 'previousSerial', cur, 'record', ARGV[a + 1], 'serial', serial, 'ca', ARGV[3 + 2 * tonumber(h[6])])
      else
        redis.call('HSET', KEYS[k], 'record', ARGV[a + 1], 'serial', serial, 'ca', ARGV[3 + 2 * tonumber(h[6])])
      end
      local n = #names
      renews[n + 1], renews[n + 2] = renew, cn
      names[n + 1], names[n + 2] = '0', cn
      lives[n + 1], lives[n + 2] = liveScore(ARGV[issuers + tonumber(h[7])], notafter), cn
      if not markerSet then
        for i = 1, nreq do
          redis.call('SET', KEYS[k + i], marker, 'PX', ttl)
        end
      end
      -- Trimmed once per call below: an XADD with MAXLEN ~ has Redis rewrite its trim
      -- arguments for the AOF on every entry.
      redis.call('XADD', KEYS[3], '*', 'event', ARGV[a + 3])
      announced = true
      out[w] = 1
    end
    k = k + 1 + nreq
    a = a + 4
  else
    if cur == ARGV[a + 1] then
      redis.call('SET', KEYS[k + 1], ARGV[a + 2], 'PX', ttl)
      out[w] = 1
    else
      out[w] = 0
    end
    k = k + 2
    a = a + 3
  end
end
variadic('ZADD', KEYS[1], renews)
variadic('ZADD', KEYS[2], names)
variadic('ZADD', KEYS[4], lives)
if announced then
  redis.call('XTRIM', KEYS[3], 'MAXLEN', '~', maxlen)
end
local naudit = tonumber(ARGV[a] or '0')
if naudit > 0 then
  local records, ids = {}, {}
  for e = 0, naudit - 1 do
    local at = a + 2 + 3 * e
    if out[tonumber(ARGV[at])] == 1 then
      local n = #ids
      records[n + 1], records[n + 2] = ARGV[at + 1], ARGV[at + 2]
      ids[n + 1], ids[n + 2] = '0', ARGV[at + 1]
    end
  end
  variadic('HSET', KEYS[k + 1], records)
  variadic('ZADD', KEYS[k], ids)
  if #ids > 0 then
    ${auditTrimLua('KEYS[k]', 'KEYS[k + 1]', 'ARGV[a + 1]')}
  end
end
return out
`);
