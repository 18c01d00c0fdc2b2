// Lua scripts for the inventory. Every key is passed in KEYS (never built inside the script) and
// all share the prefix's hash tag, so the scripts stay legal on Redis Cluster.
import { luaScript } from '../redis/run-script.js';

/**
 * KEYS: cert hash, renew index, names, request keys...
 * ARGV: record JSON, serial, renewAt ms, commonName, expected serial ('' = any, '-' = none yet),
 *       request TTL ms, request value
 * Returns {stored (1|0), current-or-previous serial or false}.
 */
export const PUT_SCRIPT = luaScript(`
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
redis.call('HSET', KEYS[1], 'record', ARGV[1], 'serial', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('ZADD', KEYS[3], 0, ARGV[4])
for i = 4, #KEYS do
  redis.call('SET', KEYS[i], ARGV[7], 'PX', ARGV[6])
end
return {1, cur}
`);

/**
 * KEYS: cert hash, renew index, names. ARGV: commonName.
 * Returns {record JSON, previousSerial} of what was deleted, or false.
 */
export const DELETE_SCRIPT = luaScript(`
local fields = redis.call('HMGET', KEYS[1], 'record', 'previousSerial')
if not fields[1] then return false end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return fields
`);
