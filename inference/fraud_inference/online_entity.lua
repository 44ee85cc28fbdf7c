-- Read what a transaction sees of one entity's (a merchant's, a card's, ...) earlier
-- transactions, then record it, in one atomic step, at a cost bounded by the number of buckets
-- (never by the entity's volume). Semantics are those of
-- fraud_training.entity_history.EntityState:
--   aggregates(): prior count, previous transaction's time; per window (bucket size s, k buckets)
--                 the count, integer-cent sum, sum of squared cents and maximum of the buckets
--                 with index >= floor(t / s) - k + 1; per distinct-counted column and window, the
--                 values whose last-seen time is >= (floor(t / s) - k + 1) * s;
--   add():        count + 1, previous = this one, the transaction added to its bucket of each
--                 window, buckets with index <= floor(t / s) - k dropped; the value's last-seen
--                 time raised to t, values last seen before the earliest window start dropped.
-- A window's buckets are one MessagePack array {index, count, sum, sumsq, max, ...} in a field
-- of the state hash. Idempotent per transaction id, like online_state.lua.
-- KEYS: state hash, seen ids sorted set (by time), replies hash, then one sorted set
--       (value -> last-seen time) per distinct-counted column; one entity, one hash slot
-- ARGV: ts_ms, cents, ttl_seconds, transaction id, number of windows, then each window's bucket
--       size in ms and bucket count, then for each distinct-counted column a presence flag
--       ('1' or '0') and the value
local state, seen, replies = KEYS[1], KEYS[2], KEYS[3]
local ts = tonumber(ARGV[1])
local cents = tonumber(ARGV[2])
local txn = ARGV[4]
local nwin = tonumber(ARGV[5])
local ndistinct = #KEYS - 3

local cached = redis.call('HGET', replies, txn)
if cached then
  return cjson.decode(cached)
end

local fields = {'n', 'ts'}
for i = 1, nwin do
  fields[#fields + 1] = 'b' .. i
end
local stored = redis.call('HMGET', state, unpack(fields))

local function int(x)
  return string.format('%.0f', x)
end

local counts, sums, squares, maxima, lowers, blobs = {}, {}, {}, {}, {}, {}
local horizon, reach = nil, 0
for i = 1, nwin do
  local size, k = tonumber(ARGV[4 + 2 * i]), tonumber(ARGV[5 + 2 * i])
  local bucket = math.floor(ts / size)
  local first = bucket - k + 1
  local packed = stored[2 + i]
  local buckets = packed and cmsgpack.unpack(packed) or {}
  local c, s, q, m = 0, 0, 0, 0
  local kept, found = {}, false
  for j = 1, #buckets, 5 do
    local index = buckets[j]
    if index >= first then -- inside the window; the others are dropped
      c = c + buckets[j + 1]
      s = s + buckets[j + 2]
      q = q + buckets[j + 3]
      if buckets[j + 4] > m then
        m = buckets[j + 4]
      end
      local n = #kept
      kept[n + 1], kept[n + 2], kept[n + 3] = index, buckets[j + 1], buckets[j + 2]
      kept[n + 4], kept[n + 5] = buckets[j + 3], buckets[j + 4]
      if index == bucket then
        kept[n + 2] = kept[n + 2] + 1
        kept[n + 3] = kept[n + 3] + cents
        kept[n + 4] = kept[n + 4] + cents * cents
        if cents > kept[n + 5] then
          kept[n + 5] = cents
        end
        found = true
      end
    end
  end
  if not found then
    local n = #kept
    kept[n + 1], kept[n + 2], kept[n + 3], kept[n + 4], kept[n + 5] =
      bucket, 1, cents, cents * cents, cents
  end
  counts[i], sums[i], squares[i], maxima[i] = int(c), int(s), int(q), int(m)
  blobs[#blobs + 1] = 'b' .. i
  blobs[#blobs + 1] = cmsgpack.pack(kept)
  lowers[i] = first * size
  if horizon == nil or lowers[i] < horizon then
    horizon = lowers[i]
  end
  if size * k > reach then
    reach = size * k
  end
end

local result = {stored[1] or '0', stored[2]}
for _, part in ipairs({counts, sums, squares, maxima}) do
  for i = 1, nwin do
    result[#result + 1] = part[i]
  end
end
for d = 1, ndistinct do
  local key = KEYS[3 + d]
  for i = 1, nwin do
    result[#result + 1] = int(redis.call('ZCOUNT', key, int(lowers[i]), '+inf'))
  end
end

redis.call('HINCRBY', state, 'n', 1)
redis.call('HSET', state, 'ts', ARGV[1], unpack(blobs))
for d = 1, ndistinct do
  local key = KEYS[3 + d]
  local base = 5 + 2 * nwin + 2 * (d - 1)
  if ARGV[base + 1] == '1' then
    redis.call('ZADD', key, 'GT', ts, ARGV[base + 2])
  end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. int(horizon))
end
local expired_before = int(ts - reach)
local expired = redis.call('ZRANGEBYSCORE', seen, '-inf', expired_before)
if #expired > 0 then
  redis.call('HDEL', replies, unpack(expired))
  redis.call('ZREMRANGEBYSCORE', seen, '-inf', expired_before)
end
redis.call('ZADD', seen, ts, txn)
redis.call('HSET', replies, txn, cjson.encode(result))
local ttl = tonumber(ARGV[3])
for _, key in ipairs(KEYS) do
  redis.call('EXPIRE', key, ttl)
end
return result
