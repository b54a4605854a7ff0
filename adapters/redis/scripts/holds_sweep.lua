-- Journal the holds that lapsed unsettled (their process died), across every user, at most ARGV[2].
-- A hold still in its user's hash at its expiry was never settled (settlement removes it first).
-- KEYS: 1 due zset ("<user>:<rid>" -> expiry), 2 journal stream
-- ARGV: 1 now, 2 limit, 3 key prefix
-- The users' keys are derived here (one Redis, not Cluster: see README "Crash-safe billing").
-- Returns how many expiries were journaled.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
local journaled = 0
for i = 1, #due, 2 do
  local member = due[i]
  local sep = string.find(member, ':', 1, true)
  local user, rid = string.sub(member, 1, sep - 1), string.sub(member, sep + 1)
  local tag = '{u:' .. user .. '}'
  local holds, expiries = ARGV[3] .. 'hold:' .. tag, ARGV[3] .. 'holdexp:' .. tag
  local amount = redis.call('HGET', holds, rid)
  if amount then
    redis.call('XADD', KEYS[2], '*', 'k', 'x', 'u', user, 'r', rid, 'm', amount, 't', due[i + 1])
    redis.call('HDEL', holds, rid)
    redis.call('ZREM', expiries, rid)
    journaled = journaled + 1
  end
  redis.call('ZREM', KEYS[1], member)
end
return journaled
