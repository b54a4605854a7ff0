-- One breaker outcome, applied atomically: the same rules as domain/breaker.py `on_outcome`.
-- KEYS[1]  the provider's breaker hash
-- ARGV     now (epoch seconds, as text), success ("1"/"0"), failure_threshold, failure_rate,
--          bucket_s, buckets, min_requests, open_for_s, half_open_successes, ttl_s
-- Hash fields: status cf cs opened_at last_failure_at tf ts, and one "w:<bucket>" = "<requests>:<failures>"
-- per window bucket. Timestamps are stored as the text the caller sent (no float round trip).
-- Returns the hash after the update (HGETALL).
local key = KEYS[1]
local now_s = ARGV[1]
local now = tonumber(now_s)
local success = ARGV[2] == "1"
local threshold = tonumber(ARGV[3])
local rate = tonumber(ARGV[4])
local bucket_s = tonumber(ARGV[5])
local nbuckets = tonumber(ARGV[6])
local min_requests = tonumber(ARGV[7])
local open_for = tonumber(ARGV[8])
local half_open_successes = tonumber(ARGV[9])
local ttl = tonumber(ARGV[10])

local raw = redis.call("HGETALL", key)
local h = {}
for i = 1, #raw, 2 do h[raw[i]] = raw[i + 1] end

local status = h["status"] or "closed"
local cf = tonumber(h["cf"] or "0")
local cs = tonumber(h["cs"] or "0")
local tf = tonumber(h["tf"] or "0")
local ts = tonumber(h["ts"] or "0")
local opened_at = h["opened_at"]
local last_failure_at = h["last_failure_at"]

-- effective(): an open breaker past its cool-down is half-open, with no half-open successes yet
if status == "open" and opened_at and now - tonumber(opened_at) >= open_for then
  status = "half_open"
  cs = 0
end

-- the window: drop buckets that left it, count the rest plus this outcome
local current = math.floor(now / bucket_s)
local current_field = string.format("w:%d", current)
local requests, failures = 0, 0
local window = {}
for field, value in pairs(h) do
  local idx = string.match(field, "^w:(%-?%d+)$")
  if idx then
    if tonumber(idx) > current - nbuckets then
      local r, f = string.match(value, "^(%d+):(%d+)$")
      window[field] = {tonumber(r), tonumber(f)}
      requests = requests + tonumber(r)
      failures = failures + tonumber(f)
    end
    redis.call("HDEL", key, field)
  end
end
local cur = window[current_field] or {0, 0}
cur[1] = cur[1] + 1
requests = requests + 1
if not success then
  cur[2] = cur[2] + 1
  failures = failures + 1
end
window[current_field] = cur

if success then
  cs = cs + 1
  cf = 0
  ts = ts + 1
  if status == "half_open" and cs >= half_open_successes then
    status = "closed"
    opened_at = nil
    window = {}
  end
else
  cf = cf + 1
  cs = 0
  tf = tf + 1
  last_failure_at = now_s
  if status == "half_open" or (status == "closed" and (cf >= threshold
      or (requests >= min_requests and failures / requests >= rate))) then
    status = "open"
    opened_at = now_s
  end
end

redis.call("HSET", key, "status", status, "cf", cf, "cs", cs, "tf", tf, "ts", ts)
if opened_at then redis.call("HSET", key, "opened_at", opened_at) else redis.call("HDEL", key, "opened_at") end
if last_failure_at then redis.call("HSET", key, "last_failure_at", last_failure_at) end
for field, counts in pairs(window) do
  redis.call("HSET", key, field, string.format("%d:%d", counts[1], counts[2]))
end
redis.call("EXPIRE", key, ttl)
return redis.call("HGETALL", key)
