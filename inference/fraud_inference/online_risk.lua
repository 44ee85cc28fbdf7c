-- Read one entity's delayed counts for a transaction, then record the transaction, in one atomic
-- step. Semantics are those of fraud_training.risk_features.RiskFeatures.aggregates: for each
-- window w, the entity's transactions and confirmed frauds with time in
-- (ts - delay - w, ts - delay]. The transaction itself is never counted (delay > 0).
-- Idempotent per transaction id: both sets are keyed by it (ZADD NX keeps the first time), so a
-- retried request or a replayed stream changes nothing.
-- KEYS: transactions sorted set (member: transaction id, score: time), confirmed frauds sorted
--       set (same); one entity, one hash slot
-- ARGV: ts_ms, transaction id, delay ms, retention ms (delay + longest window), ttl seconds,
--       then each window width in ms (in the order the counts are reported)
local txns, frauds = KEYS[1], KEYS[2]
local ts = tonumber(ARGV[1])
local upper = ts - tonumber(ARGV[3])
local upper_text = string.format('%d', upper)
local counts, fraud_counts = {}, {}
for i = 6, #ARGV do
  local lower = string.format('(%d', upper - tonumber(ARGV[i]))
  counts[#counts + 1] = redis.call('ZCOUNT', txns, lower, upper_text)
  fraud_counts[#fraud_counts + 1] = redis.call('ZCOUNT', frauds, lower, upper_text)
end
for _, count in ipairs(fraud_counts) do
  counts[#counts + 1] = count
end

redis.call('ZADD', txns, 'NX', ts, ARGV[2])
-- a time <= ts - retention is out of every later transaction's delayed period
local horizon = string.format('%d', ts - tonumber(ARGV[4]))
redis.call('ZREMRANGEBYSCORE', txns, '-inf', horizon)
redis.call('ZREMRANGEBYSCORE', frauds, '-inf', horizon)
local ttl = tonumber(ARGV[5])
redis.call('EXPIRE', txns, ttl)
if redis.call('EXISTS', frauds) == 1 then
  redis.call('EXPIRE', frauds, ttl)
end
return counts
