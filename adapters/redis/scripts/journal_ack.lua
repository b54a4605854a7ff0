-- Acknowledge written journal entries: each one leaves the group's pending list and the stream, and
-- its charge leaves the user's unposted total, exactly once (only the call whose XACK removed it).
-- KEYS: 1 journal stream, 2 unposted hash
-- ARGV: 1 group, then triples: entry id, user id ("" none), charged micro-USD
-- Returns how many entries this call acknowledged.
local acked = 0
for i = 2, #ARGV, 3 do
  local id, user, micro = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  if redis.call('XACK', KEYS[1], ARGV[1], id) == 1 then
    acked = acked + 1
    if user ~= '' and micro > 0 then
      if redis.call('HINCRBY', KEYS[2], user, -micro) <= 0 then redis.call('HDEL', KEYS[2], user) end
    end
  end
  redis.call('XDEL', KEYS[1], id)
end
return acked
