-- Read what a transaction sees of one entity's (a merchant's, a terminal's, ...) earlier
-- transactions, then record it, in one atomic step. Semantics are those of
-- fraud_training.features.EntityState:
--   aggregates(): prior count, previous transaction's time, counts and integer-cent sums of
--                 window entries with time > t - width;
--   add():        count + 1, previous = this one, entry appended, entries with
--                 time <= t - longest window dropped.
-- Idempotent per transaction id, like online_state.lua.
-- KEYS: state hash, window sorted set, seen ids sorted set (by time), replies hash; one entity,
--       one hash slot
-- ARGV: ts_ms, cents, ttl_seconds, longest window ms, transaction id, then each window width in
--       ms (in the order the aggregates are reported)
local state, window, seen, replies = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local ts = tonumber(ARGV[1])
local longest = tonumber(ARGV[4])
local txn = ARGV[5]

local cached = redis.call('HGET', replies, txn)
if cached then
  return cjson.decode(cached)
end

local prior = redis.call('HMGET', state, 'n', 'ts')
local result = {prior[1] or '0', prior[2]}

-- entries are "<sequence>:<cents>" scored by time; fetch the longest window once
local entries = redis.call('ZRANGEBYSCORE', window, string.format('(%d', ts - longest), '+inf',
                           'WITHSCORES')
local sums = {}
for i = 6, #ARGV do
  local lower = ts - tonumber(ARGV[i])
  local count, total = 0, 0
  for j = 1, #entries, 2 do
    if tonumber(entries[j + 1]) > lower then
      count = count + 1
      total = total + tonumber(string.match(entries[j], ':(%d+)$'))
    end
  end
  result[#result + 1] = count
  sums[#sums + 1] = string.format('%d', total)
end
for _, total in ipairs(sums) do
  result[#result + 1] = total
end

local sequence = redis.call('HINCRBY', state, 'n', 1)
redis.call('HSET', state, 'ts', ARGV[1])
redis.call('ZADD', window, ts, sequence .. ':' .. ARGV[2])
local horizon = string.format('%d', ts - longest)
redis.call('ZREMRANGEBYSCORE', window, '-inf', horizon)
local expired = redis.call('ZRANGEBYSCORE', seen, '-inf', horizon)
if #expired > 0 then
  redis.call('HDEL', replies, unpack(expired))
  redis.call('ZREMRANGEBYSCORE', seen, '-inf', horizon)
end
redis.call('ZADD', seen, ts, txn)
redis.call('HSET', replies, txn, cjson.encode(result))
local ttl = tonumber(ARGV[3])
for _, key in ipairs(KEYS) do
  redis.call('EXPIRE', key, ttl)
end
return result
