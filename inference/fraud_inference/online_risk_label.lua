-- Apply one confirmed fraud to one key of the risk state, atomically and idempotently.
-- mode "entity": KEYS[1] is an entity's confirmed-frauds sorted set; the transaction id is added
--                with its time (ZADD NX: a repeated label adds nothing).
-- mode "card":   KEYS[1] holds the time of the card's earliest confirmed fraud; it becomes the
--                smaller of itself and this one (a repeated label changes nothing).
-- ARGV: mode, transaction time ms, transaction id, ttl seconds
-- Returns 1 if the state changed, 0 if the label was already applied.
local key, mode = KEYS[1], ARGV[1]
local ts = tonumber(ARGV[2])
local ttl = tonumber(ARGV[4])
local changed = 0
if mode == 'entity' then
  changed = redis.call('ZADD', key, 'NX', ts, ARGV[3])
elseif mode == 'card' then
  local current = redis.call('GET', key)
  if not current or ts < tonumber(current) then
    redis.call('SET', key, ARGV[2])
    changed = 1
  end
else
  return redis.error_reply('unknown mode ' .. tostring(mode))
end
redis.call('EXPIRE', key, ttl)
return changed
