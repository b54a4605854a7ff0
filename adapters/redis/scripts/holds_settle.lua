-- Close a hold and take the charge off the mirrored balance, once per request id; when a journal
-- entry is given, append it to the settlement journal in the same atomic call (durable before the
-- caller goes on: nothing between the hold's release and the journal can be lost).
-- KEYS: 1 balance, 2 holds, 3 expiries, 4 settled marker, 5 journal stream, 6 unposted hash,
--       7 due zset (every open hold, "<user>:<rid>" -> expiry)
-- ARGV: 1 request id, 2 charged micro-USD, 3 marker ttl (s), 4 user id, 5 entry ("" = none)
if not redis.call('SET', KEYS[4], '1', 'NX', 'EX', ARGV[3]) then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[7], ARGV[4] .. ':' .. ARGV[1])
local charged = tonumber(ARGV[2])
if charged > 0 and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('DECRBY', KEYS[1], ARGV[2])
end
if ARGV[5] ~= '' then
  redis.call('XADD', KEYS[5], '*', 'k', 's', 'u', ARGV[4], 'm', ARGV[2], 'e', ARGV[5])
  if charged > 0 then redis.call('HINCRBY', KEYS[6], ARGV[4], charged) end
end
return 1
