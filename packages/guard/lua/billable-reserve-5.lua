--[[
  billable-reserve-5.lua: phase one of a billable action. Atomically: releases reservations whose TTL has
  passed, answers a retry of a known idempotency key (its stored response, "in progress", or a refusal when
  the request differs), checks the cluster's daily and monthly budget against what is already charged PLUS
  everything still held by open reservations, and holds this amount.

  KEYS[1] record hash of this idempotency key     KEYS[2] zset: open reservation -> expiry (ms)
  KEYS[3] hash: open reservation -> held amount   KEYS[4] hash: totals (held, counters, d:<day>, m:<yyyymm>)
  KEYS[5] (unused here; the confirmed-charge stream, kept so all billable scripts share one key layout)
  ARGV: 1 idempotency key, 2 attempt token, 3 action, 4 amount (integer micro-units), 5 currency,
        6 request digest, 7 ttl ms, 8 daily limit (micro, 0 = none), 9 monthly limit (micro, 0 = none),
        10 replay ttl ms
  Amounts stay strings when written (HINCRBY takes them as given) so no Lua number formatting rounds them.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local function release(m)
  local amt = redis.call('HGET', KEYS[3], m)
  if not amt then return false end
  redis.call('HDEL', KEYS[3], m)
  redis.call('ZREM', KEYS[2], m)
  redis.call('HINCRBY', KEYS[4], 'held', '-' .. amt)
  redis.call('HINCRBY', KEYS[4], 'pending', -1)
  return true
end
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)) do
  if release(m) then redis.call('HINCRBY', KEYS[4], 'expired', 1) end
end

local rec = redis.call('HMGET', KEYS[1], 'state', 'digest', 'token', 'expiresAt', 'response', 'amount', 'currency')
if rec[1] then
  if rec[2] ~= ARGV[6] then
    redis.call('HINCRBY', KEYS[4], 'conflicts', 1)
    return { 'conflict', rec[2] }
  end
  if rec[1] == 'confirmed' then return { 'replayed', rec[3], rec[5], rec[6], rec[7] } end
  if rec[1] == 'reserved' and now < tonumber(rec[4]) then return { 'in-progress', rec[3], rec[4] } end
  -- cancelled or expired: this retry is a new attempt
end

local function yyyymm(days)
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  return string.format('%d', y * 100 + m)
end
local day = math.floor(now / 86400000)
local tot = redis.call('HMGET', KEYS[4], 'held', 'd:' .. day, 'm:' .. yyyymm(day))
local held = tonumber(tot[1] or 0)
local amount = tonumber(ARGV[4])
local daily, monthly = tonumber(ARGV[8]), tonumber(ARGV[9])
if daily > 0 and held + tonumber(tot[2] or 0) + amount > daily then
  redis.call('HINCRBY', KEYS[4], 'refused', 1)
  return { 'budget', 'daily', string.format('%d', held), tot[2] or '0', 86400000 - (now % 86400000) }
end
if monthly > 0 and held + tonumber(tot[3] or 0) + amount > monthly then
  redis.call('HINCRBY', KEYS[4], 'refused', 1)
  return { 'budget', 'monthly', string.format('%d', held), tot[3] or '0', 86400000 - (now % 86400000) }
end

-- A previous attempt of this key that expired but was not swept yet (more than 100 were due) is released first.
if release(ARGV[1]) then redis.call('HINCRBY', KEYS[4], 'expired', 1) end
local expires = now + tonumber(ARGV[7])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'reserved', 'token', ARGV[2], 'action', ARGV[3], 'amount', ARGV[4], 'currency', ARGV[5],
  'digest', ARGV[6], 'reservedAt', now, 'expiresAt', expires)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[7]) + tonumber(ARGV[10]))
redis.call('ZADD', KEYS[2], expires, ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[4])
redis.call('HINCRBY', KEYS[4], 'held', ARGV[4])
redis.call('HINCRBY', KEYS[4], 'pending', 1)
redis.call('HINCRBY', KEYS[4], 'reserved', 1)
return { 'reserved', ARGV[2], tostring(expires) }
