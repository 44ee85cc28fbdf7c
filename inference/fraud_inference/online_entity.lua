-- Read what a transaction sees of one entity's (a merchant's, a card's, ...) earlier
-- transactions, then record it, in one atomic step, at a cost that grows neither with the
-- entity's volume nor, in the usual case, with the number of buckets. Semantics are those of
-- fraud_training.entity_history.EntityState:
--   aggregates(): prior count, previous transaction's time; per window (bucket size s, k buckets)
--                 the count, integer-cent sum, sum of squared cents and maximum of the buckets
--                 with index >= floor(t / s) - k + 1; per distinct-counted column and window, the
--                 values whose last-seen time is >= (floor(t / s) - k + 1) * s;
--   add():        count + 1, previous = this one, the transaction added to its bucket of each
--                 window, buckets with index <= floor(t / s) - k dropped; the value's last-seen
--                 time raised to t, values last seen before the earliest window start dropped.
-- A window is one field "w<i>" of the state hash: a header (the totals count, sum and sum of
-- squares of its stored buckets, their maximum, and the newest bucket index holding it, or -1)
-- then its buckets {index, count, sum, sumsq, max} sorted by index, all as little-endian
-- doubles (struct). A transaction cuts the buckets older than its window off the front,
-- subtracting them from the totals, which are then its aggregates; it updates its own bucket
-- (the last one, unless it arrived out of order) and the header. The buckets are read one by
-- one only when the one holding the maximum was cut off (the totals are then recomputed too).
-- Counts and sums are exact up to 2^53, and returned as numbers (integer replies): formatting
-- them as text cost more than the rest of the arithmetic. Idempotent per transaction id, like
-- online_state.lua.
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
local HEADER, BUCKET = '<ddddd', '<ddddd'
local WIDTH = 40 -- bytes of the header and of a bucket

local cached = redis.call('HGET', replies, txn)
if cached then
  return cmsgpack.unpack(cached)
end

local fields = {'n', 'ts'}
for i = 1, nwin do
  fields[#fields + 1] = 'w' .. i
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
  local c, s, q, m, mi, body = 0, 0, 0, 0, -1, ''
  if packed then
    c, s, q, m, mi = struct.unpack(HEADER, packed, 1)
    body = string.sub(packed, WIDTH + 1)
  end
  local n = #body / WIDTH
  local cut = 0
  while cut < n do
    local index, bc, bs, bq = struct.unpack(BUCKET, body, cut * WIDTH + 1)
    if index >= first then
      break
    end
    c, s, q = c - bc, s - bs, q - bq
    cut = cut + 1
  end
  if cut > 0 then
    body, n = string.sub(body, cut * WIDTH + 1), n - cut
    if n == 0 or mi < first then
      c, s, q, m, mi = 0, 0, 0, 0, -1
      for j = 0, n - 1 do
        local index, bc, bs, bq, bm = struct.unpack(BUCKET, body, j * WIDTH + 1)
        c, s, q = c + bc, s + bs, q + bq
        if bm >= m then
          m, mi = bm, index
        end
      end
    end
  end
  counts[i], sums[i], squares[i], maxima[i] = c, s, q, m

  -- the transaction's own bucket: the last one, or (out of order) where its index belongs
  local at = n - 1
  local index, bc, bs, bq, bm
  while at >= 0 do
    index, bc, bs, bq, bm = struct.unpack(BUCKET, body, at * WIDTH + 1)
    if index <= bucket then
      break
    end
    at = at - 1
  end
  local found = at >= 0 and index == bucket
  if not found then
    bc, bs, bq, bm = 0, 0, 0, 0
  end
  local before = string.sub(body, 1, (found and at or at + 1) * WIDTH)
  local after = string.sub(body, (at + 1) * WIDTH + 1)
  if cents > bm then
    bm = cents
  end
  local own = struct.pack(BUCKET, bucket, bc + 1, bs + cents, bq + cents * cents, bm)
  c, s, q = c + 1, s + cents, q + cents * cents
  if cents > m or (cents == m and bucket > mi) then
    m, mi = cents, bucket
  end
  blobs[#blobs + 1] = 'w' .. i
  blobs[#blobs + 1] = struct.pack(HEADER, c, s, q, m, mi) .. before .. own .. after

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
    result[#result + 1] = redis.call('ZCOUNT', key, int(lowers[i]), '+inf')
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
redis.call('HSET', replies, txn, cmsgpack.pack(result))
local ttl = tonumber(ARGV[3])
for _, key in ipairs(KEYS) do
  redis.call('EXPIRE', key, ttl)
end
return result
