-- Read what a transaction sees of its customer's earlier transactions, then record it, in one
-- atomic step. Semantics are those of fraud_training.features.CustomerHistory:
--   aggregates(): counts and integer-cent sums of window entries with time > t - width,
--                 previous transaction's time and place, merchant/device seen before;
--   add():        running totals, previous = this one, entry appended, entries with
--                 time <= t - longest window dropped.
-- Idempotent per transaction id: the reply of a transaction already recorded is stored, and a
-- replay of the same id returns it and changes nothing. Ids are remembered as long as window
-- entries are (the longest window), which is as long as a replay could still move a window.
-- KEYS: state hash, window sorted set, merchants set, devices set, seen ids sorted set (by time),
--       replies hash (id -> reply as JSON); one customer, one hash slot
-- ARGV: ts_ms, cents, merchant_id, device_id, lat, lon, ttl_seconds, longest window ms,
--       transaction id, then each window width in ms (in the order the aggregates are reported)
local state, window, merchants, devices = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local seen, replies = KEYS[5], KEYS[6]
local ts = tonumber(ARGV[1])
local longest = tonumber(ARGV[8])
local txn = ARGV[9]

local cached = redis.call('HGET', replies, txn)
if cached then
  return cjson.decode(cached)
end

local prior = redis.call('HMGET', state, 'n', 'sum', 'ts', 'lat', 'lon')
local result = {
  prior[1] or '0',
  prior[2] or '0',
  prior[3],
  prior[4],
  prior[5],
  redis.call('SISMEMBER', merchants, ARGV[3]),
  redis.call('SISMEMBER', devices, ARGV[4]),
}

-- entries are "<sequence>:<cents>" scored by time; fetch the longest window once
local entries = redis.call('ZRANGEBYSCORE', window, string.format('(%d', ts - longest), '+inf',
                           'WITHSCORES')
local sums = {}
for i = 10, #ARGV do
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
redis.call('HINCRBY', state, 'sum', ARGV[2])
redis.call('HSET', state, 'ts', ARGV[1], 'lat', ARGV[5], 'lon', ARGV[6])
redis.call('SADD', merchants, ARGV[3])
redis.call('SADD', devices, ARGV[4])
redis.call('ZADD', window, ts, sequence .. ':' .. ARGV[2])
redis.call('ZREMRANGEBYSCORE', window, '-inf', string.format('%d', ts - longest))
local horizon = string.format('%d', ts - longest)
local expired = redis.call('ZRANGEBYSCORE', seen, '-inf', horizon)
if #expired > 0 then
  redis.call('HDEL', replies, unpack(expired))
  redis.call('ZREMRANGEBYSCORE', seen, '-inf', horizon)
end
redis.call('ZADD', seen, ts, txn)
redis.call('HSET', replies, txn, cjson.encode(result))
local ttl = tonumber(ARGV[7])
for _, key in ipairs(KEYS) do
  redis.call('EXPIRE', key, ttl)
end
return result
