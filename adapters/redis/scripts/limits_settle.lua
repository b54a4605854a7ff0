-- Settlement: release a concurrency lease and correct the token scopes, once.
-- Mirrors domain/limits.py `corrected`/`adjust`. Only the call that removes a live lease corrects.
-- KEYS[1] TAT hash, KEYS[2] lease zset (as limits.lua)
-- ARGV[1] now  ARGV[2] lease id  ARGV[3] actual - estimate tokens ("" = keep the estimate)
-- ARGV[4..6] limits of tokens per minute, hour, day (0 = none)
-- Returns 1 when this call released a live lease, else 0.
local names = {"tokens_per_minute", "tokens_per_hour", "tokens_per_day"}
local periods = {60.0, 3600.0, 86400.0}
local now = tonumber(ARGV[1])
local score = redis.call("ZSCORE", KEYS[2], ARGV[2])
if not score then return 0 end
redis.call("ZREM", KEYS[2], ARGV[2])
if tonumber(score) <= now then return 0 end
if ARGV[3] == "" then return 1 end
local delta = tonumber(ARGV[3])
if delta == 0 then return 1 end

local stored = redis.call("HMGET", KEYS[1], unpack(names))
local fields = {}
local horizon = now
for i = 1, 3 do
  local limit = tonumber(ARGV[3 + i])
  if limit > 0 then
    local interval = periods[i] / limit
    local current = tonumber(stored[i]) or now
    local tat
    if delta >= 0 then
      tat = math.max(current, now) + delta * interval
    else
      tat = math.max(current + delta * interval, now)
    end
    fields[#fields + 1] = names[i]
    fields[#fields + 1] = string.format("%.17g", tat)
    if tat > horizon then horizon = tat end
  end
end
if #fields > 0 then
  redis.call("HSET", KEYS[1], unpack(fields))
  local need = math.ceil((horizon - now) * 1000) + 1000
  if redis.call("PTTL", KEYS[1]) < need then redis.call("PEXPIRE", KEYS[1], need) end
end
return 1
