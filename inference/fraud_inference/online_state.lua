-- Read what a transaction sees of its customer's earlier transactions, then record it, in one
-- atomic step. Semantics are those of fraud_training.features.CustomerHistory:
--   aggregates(): counts and integer-cent sums of window entries with time > t - width,
--                 previous transaction's time and place, merchant/device seen before;
--   add():        running totals, previous = this one, entry appended, entries with
--                 time <= t - longest window dropped.
-- An entry is "<sequence, 15 digits>:<cents of the entries before it>:<cents>", scored by time.
-- While the entries' time order is their recording order (every entry was recorded at or after
-- the newest time before it), a window is the run of entries from its first to the newest one,
-- so its count and sum are differences of the sequences and running sums of those two entries:
-- a few O(log n) reads, whatever the customer's volume. After an entry arrives out of time order
-- ("late" holds the latest such time), windows are summed entry by entry until that entry is
-- older than the longest window.
-- Idempotent per transaction id: the reply of a transaction already recorded is stored, and a
-- replay of the same id returns it and changes nothing. Ids are remembered as long as window
-- entries are (the longest window), which is as long as a replay could still move a window.
-- KEYS: state hash, entries sorted set, merchants set, devices set, seen ids sorted set (by time),
--       replies hash (id -> reply as MessagePack); one customer, one hash slot
-- ARGV: ts_ms, cents, merchant_id, device_id, lat, lon, ttl_seconds, longest window ms,
--       transaction id, then each window width in ms (in the order the aggregates are reported)
local state, entries, merchants, devices = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local seen, replies = KEYS[5], KEYS[6]
local ts = tonumber(ARGV[1])
local cents = tonumber(ARGV[2])
local longest = tonumber(ARGV[8])
local txn = ARGV[9]

local cached = redis.call('HGET', replies, txn)
if cached then
  return cmsgpack.unpack(cached)
end

local function int(x)
  return string.format('%d', x)
end

-- entries this old are in no window of this transaction (every window is at most the longest)
local horizon = int(ts - longest)
redis.call('ZREMRANGEBYSCORE', entries, '-inf', horizon)

local prior = redis.call('HMGET', state, 'n', 'sum', 'ts', 'lat', 'lon', 'newest', 'late')
local result = {
  prior[1] or '0',
  prior[2] or '0',
  prior[3],
  prior[4],
  prior[5],
  redis.call('SISMEMBER', merchants, ARGV[3]),
  redis.call('SISMEMBER', devices, ARGV[4]),
}

local counts, sums = {}, {}
if not (prior[7] and tonumber(prior[7]) > ts - longest) then
  local newest = redis.call('ZRANGE', entries, -1, -1)[1]
  local last_seq, last_before, last_cents
  if newest then
    last_seq, last_before, last_cents = string.match(newest, '^(%d+):(%d+):(%d+)$')
  end
  for i = 10, #ARGV do
    local first = newest and redis.call('ZRANGEBYSCORE', entries, '(' .. int(ts - tonumber(ARGV[i])),
                                        '+inf', 'LIMIT', 0, 1)[1]
    if first then
      local seq, before = string.match(first, '^(%d+):(%d+):')
      counts[#counts + 1] = tonumber(last_seq) - tonumber(seq) + 1
      sums[#sums + 1] = tonumber(last_before) + tonumber(last_cents) - tonumber(before)
    else
      counts[#counts + 1], sums[#sums + 1] = 0, 0
    end
  end
else
  local listed = redis.call('ZRANGEBYSCORE', entries, '(' .. horizon, '+inf', 'WITHSCORES')
  local amounts, times = {}, {}
  for j = 1, #listed, 2 do
    amounts[#amounts + 1] = tonumber(string.match(listed[j], ':(%d+)$'))
    times[#times + 1] = tonumber(listed[j + 1])
  end
  for i = 10, #ARGV do
    local lower = ts - tonumber(ARGV[i])
    local count, total = 0, 0
    for j = 1, #times do
      if times[j] > lower then
        count = count + 1
        total = total + amounts[j]
      end
    end
    counts[#counts + 1], sums[#sums + 1] = count, total
  end
end
for _, count in ipairs(counts) do
  result[#result + 1] = count
end
for _, total in ipairs(sums) do
  result[#result + 1] = total
end

local sequence = redis.call('HINCRBY', state, 'n', 1)
local before = redis.call('HINCRBY', state, 'sum', ARGV[2]) - cents
local order = {'newest', ARGV[1]}
if prior[6] and ts < tonumber(prior[6]) then
  order = {'late', int(math.max(ts, tonumber(prior[7] or ts)))}
end
redis.call('HSET', state, 'ts', ARGV[1], 'lat', ARGV[5], 'lon', ARGV[6], order[1], order[2])
redis.call('SADD', merchants, ARGV[3])
redis.call('SADD', devices, ARGV[4])
redis.call('ZADD', entries, ts, string.format('%015d:%d:%d', sequence, before, cents))
local expired = redis.call('ZRANGEBYSCORE', seen, '-inf', horizon)
if #expired > 0 then
  redis.call('HDEL', replies, unpack(expired))
  redis.call('ZREMRANGEBYSCORE', seen, '-inf', horizon)
end
redis.call('ZADD', seen, ts, txn)
redis.call('HSET', replies, txn, cmsgpack.pack(result))
local ttl = tonumber(ARGV[7])
for _, key in ipairs(KEYS) do
  redis.call('EXPIRE', key, ttl)
end
return result
