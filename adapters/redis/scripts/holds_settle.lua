-- Close a hold and take the charge off the mirrored balance, once per request id.
-- KEYS: 1 balance, 2 holds, 3 expiries, 4 settled marker
-- ARGV: 1 request id, 2 charged micro-USD, 3 marker ttl (s)
if not redis.call('SET', KEYS[4], '1', 'NX', 'EX', ARGV[3]) then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if tonumber(ARGV[2]) > 0 and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('DECRBY', KEYS[1], ARGV[2])
end
return 1
