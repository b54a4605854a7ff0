-- Atomically drop expired holds (each one journaled as an expiry), then hold ARGV[2] micro-USD if
-- balance - open holds covers it.
-- KEYS: 1 balance (string, micro-USD), 2 holds (hash rid -> micro-USD), 3 expiries (zset rid -> epoch s),
--       4 due zset (every open hold, "<user>:<rid>" -> expiry), 5 journal stream
-- ARGV: 1 request id, 2 amount, 3 now, 4 expires at, 5 key ttl (s), 6 user id
-- Returns {status, available, held}: status 1 accepted, 0 refused, -1 balance unknown.
local balance = redis.call('GET', KEYS[1])
if not balance then return {-1, 0, 0} end
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[3], 'WITHSCORES')
for i = 1, #expired, 2 do
  local rid = expired[i]
  local amount = redis.call('HGET', KEYS[2], rid)
  if amount then
    redis.call('XADD', KEYS[5], '*', 'k', 'x', 'u', ARGV[6], 'r', rid, 'm', amount, 't', expired[i + 1])
  end
  redis.call('HDEL', KEYS[2], rid)
  redis.call('ZREM', KEYS[3], rid)
  redis.call('ZREM', KEYS[4], ARGV[6] .. ':' .. rid)
end
local held = 0
for _, amount in ipairs(redis.call('HVALS', KEYS[2])) do held = held + tonumber(amount) end
local available = tonumber(balance) - held
if available < tonumber(ARGV[2]) then return {0, available, held} end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[6] .. ':' .. ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('EXPIRE', KEYS[3], ARGV[5])
return {1, available, held + tonumber(ARGV[2])}
