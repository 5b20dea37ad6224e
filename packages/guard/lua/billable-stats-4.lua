--[[
  billable-stats-4.lua: releases reservations whose TTL has passed (as reserve does), then returns the
  totals hash. KEYS: record prefix (unused), open zset, held hash, totals.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)) do
  local amt = redis.call('HGET', KEYS[3], m)
  if amt then
    redis.call('HDEL', KEYS[3], m)
    redis.call('ZREM', KEYS[2], m)
    redis.call('HINCRBY', KEYS[4], 'held', '-' .. amt)
    redis.call('HINCRBY', KEYS[4], 'pending', -1)
    redis.call('HINCRBY', KEYS[4], 'expired', 1)
  end
end
return redis.call('HGETALL', KEYS[4])
