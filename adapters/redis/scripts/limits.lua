-- Admission: check and consume every rate scope (GCRA) and take a concurrency lease, atomically.
-- Mirrors domain/limits.py `evaluate` operation for operation (both sides compute in IEEE doubles).
-- KEYS[1]  hash: one field per rate scope, its TAT (epoch seconds, "%.17g")
-- KEYS[2]  zset: concurrency leases (member lease id, score expiry)
-- ARGV[1] now  ARGV[2] tokens estimate  ARGV[3] lease id  ARGV[4] lease ttl (s)
-- ARGV[5] concurrency limit (0 = none)  ARGV[6..11] limits of the six rate scopes (0 = none)
-- Returns {allowed 1/0, violated index (0 none, 1-6 rate scope, 7 concurrency), wait, active leases
--          before this request, TAT of each of the six scopes after ("" when none)}.
local names = {"requests_per_minute", "requests_per_hour", "requests_per_day",
               "tokens_per_minute", "tokens_per_hour", "tokens_per_day"}
local periods = {60.0, 3600.0, 86400.0, 60.0, 3600.0, 86400.0}
local EPSILON = 1e-3
local CONCURRENCY_RETRY = 1.0
local now = tonumber(ARGV[1])
local tokens = tonumber(ARGV[2])
local ttl = tonumber(ARGV[4])
local ceiling = tonumber(ARGV[5])

redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", ARGV[1])
local active = redis.call("ZCARD", KEYS[2])
local stored = redis.call("HMGET", KEYS[1], unpack(names))
local tats = {}
for i = 1, 6 do tats[i] = tonumber(stored[i]) end

local worst, worst_wait = 0, 0.0
local new = {}
for i = 1, 6 do
  local limit = tonumber(ARGV[5 + i])
  if limit > 0 then
    local period = periods[i]
    local interval = period / limit
    local cost = 1
    if i > 3 then cost = tokens end
    local base = math.max(tats[i] or now, now)
    local charge = math.min(cost, limit) * interval
    local wait = base + charge - period - now
    if wait > EPSILON then
      if wait > worst_wait then worst, worst_wait = i, wait end
    else
      new[i] = base + cost * interval
    end
  end
end
if ceiling > 0 and active >= ceiling and CONCURRENCY_RETRY > worst_wait then
  worst, worst_wait = 7, CONCURRENCY_RETRY
end

if worst == 0 then
  local fields = {}
  local horizon = now
  for i = 1, 6 do
    if new[i] then
      tats[i] = new[i]
      fields[#fields + 1] = names[i]
      fields[#fields + 1] = string.format("%.17g", new[i])
    end
    if tats[i] and tats[i] > horizon then horizon = tats[i] end
  end
  if #fields > 0 then
    redis.call("HSET", KEYS[1], unpack(fields))
    redis.call("PEXPIRE", KEYS[1], math.ceil((horizon - now) * 1000) + 1000)
  end
  redis.call("ZADD", KEYS[2], string.format("%.17g", now + ttl), ARGV[3])
  redis.call("PEXPIRE", KEYS[2], math.ceil(ttl * 1000) + 1000)
end

local out = {worst == 0 and 1 or 0, worst, string.format("%.17g", worst_wait), active}
for i = 1, 6 do
  out[#out + 1] = tats[i] and string.format("%.17g", tats[i]) or ""
end
return out
