--[[
  rate-limit-3.lua: decides the minute, hour and day windows of one subject atomically.
  A denied request charges no window.

  KEYS[1], KEYS[2], KEYS[3]  counters of the minute, hour and day windows (one {cluster} hash tag)
  ARGV[1], ARGV[2], ARGV[3]  limits of those windows (0 = no limit)
  ARGV[4]                    cost of this request (usually 1)

  Returns { allowed (1|0), retryAfterMs, remainingMinute, remainingHour, remainingDay } (remaining -1 = no limit).
  Windows are aligned to the Redis server clock (TIME), never to a client's: each counter holds
  "<window start ms>:<count>" and expires one second after its window ends.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local sizes = { 60000, 3600000, 86400000 }
local cost = tonumber(ARGV[4])
local starts, counts = {}, {}
local retry = 0
for i = 1, 3 do
  local size = sizes[i]
  local start = now - (now % size)
  starts[i] = start
  local count = 0
  local v = redis.call('GET', KEYS[i])
  if v then
    local sep = string.find(v, ':', 1, true)
    if sep and tonumber(string.sub(v, 1, sep - 1)) == start then count = tonumber(string.sub(v, sep + 1)) end
  end
  counts[i] = count
  local limit = tonumber(ARGV[i])
  if limit > 0 and count + cost > limit then
    local wait = start + size - now
    if wait > retry then retry = wait end
  end
end
local allowed = 1
if retry > 0 then
  allowed = 0
else
  for i = 1, 3 do
    counts[i] = counts[i] + cost
    redis.call('SET', KEYS[i], starts[i] .. ':' .. counts[i], 'PXAT', starts[i] + sizes[i] + 1000)
  end
end
local remaining = {}
for i = 1, 3 do
  local limit = tonumber(ARGV[i])
  if limit > 0 then remaining[i] = math.max(0, limit - counts[i]) else remaining[i] = -1 end
end
return { allowed, retry, remaining[1], remaining[2], remaining[3] }
