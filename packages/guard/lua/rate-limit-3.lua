--[[
  rate-limit-3.lua: decides the minute, hour and day windows of one subject atomically.
  A denied request charges no window.

  KEYS[1], KEYS[2], KEYS[3]  counters of the minute, hour and day windows (one {cluster} hash tag)
  ARGV[1], ARGV[2], ARGV[3]  limits of those windows (0 = no limit)
  ARGV[4]                    cost of this request (usually 1)

  Returns { allowed (1|0), retryAfterMs, remainingMinute, remainingHour, remainingDay } (remaining -1 = no limit).
  Windows are aligned to the Redis server clock (TIME), never to a client's. A counter is a plain integer
  that expires exactly when its window ends, so an existing counter always belongs to the current window.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local sizes = { 60000, 3600000, 86400000 }
local cost = tonumber(ARGV[4])
local counts = redis.call('MGET', KEYS[1], KEYS[2], KEYS[3])
local retry = 0
for i = 1, 3 do
  counts[i] = tonumber(counts[i] or 0)
  local limit = tonumber(ARGV[i])
  if limit > 0 and counts[i] + cost > limit then
    local wait = sizes[i] - (now % sizes[i])
    if wait > retry then retry = wait end
  end
end
local allowed = 1
if retry > 0 then
  allowed = 0
else
  for i = 1, 3 do
    counts[i] = redis.call('INCRBY', KEYS[i], cost)
    if counts[i] == cost then redis.call('PEXPIREAT', KEYS[i], now - (now % sizes[i]) + sizes[i]) end
  end
end
local remaining = {}
for i = 1, 3 do
  local limit = tonumber(ARGV[i])
  if limit > 0 then remaining[i] = math.max(0, limit - counts[i]) else remaining[i] = -1 end
end
return { allowed, retry, remaining[1], remaining[2], remaining[3] }
