--[[
  billable-finish-5.lua: phase two of a billable action, confirm or cancel, for one attempt (its token).
  Confirm: only an open, unexpired reservation of this attempt; stores the response for replays, moves the
  amount from held to charged (day, month, total) and appends the charge to the stream the bot collects
  costs from, all in this one script, so a confirmed charge is never half recorded. Confirming again is
  answered "already". Cancel: releases the held amount. An expired reservation is released, never charged.

  KEYS: as billable-reserve-5.lua (record, open zset, held hash, totals, confirmed-charge stream)
  ARGV: 1 'confirm'|'cancel', 2 idempotency key, 3 attempt token, 4 response (confirm), 5 replay ttl ms,
        6 cluster, 7 trace id
  Returns { outcome, detail }: confirmed | already | cancelled | expired | superseded | unknown
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rec = redis.call('HMGET', KEYS[1], 'state', 'token', 'expiresAt', 'amount', 'action', 'currency', 'digest')
if not rec[1] then return { 'unknown', '' } end
if rec[2] ~= ARGV[3] then return { 'superseded', rec[1] } end
if rec[1] == 'confirmed' then return { ARGV[1] == 'confirm' and 'already' or 'confirmed', '' } end
if rec[1] ~= 'reserved' then return { rec[1], '' } end

local function release(m)
  local amt = redis.call('HGET', KEYS[3], m)
  if not amt then return false end
  redis.call('HDEL', KEYS[3], m)
  redis.call('ZREM', KEYS[2], m)
  redis.call('HINCRBY', KEYS[4], 'held', '-' .. amt)
  redis.call('HINCRBY', KEYS[4], 'pending', -1)
  return true
end

if now >= tonumber(rec[3]) then
  if release(ARGV[2]) then redis.call('HINCRBY', KEYS[4], 'expired', 1) end
  redis.call('HSET', KEYS[1], 'state', 'expired')
  return { 'expired', '' }
end
release(ARGV[2])
if ARGV[1] == 'cancel' then
  redis.call('HSET', KEYS[1], 'state', 'cancelled', 'finishedAt', now)
  redis.call('HINCRBY', KEYS[4], 'cancelled', 1)
  return { 'cancelled', '' }
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
redis.call('HSET', KEYS[1], 'state', 'confirmed', 'response', ARGV[4], 'finishedAt', now)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]))
redis.call('HINCRBY', KEYS[4], 'd:' .. day, rec[4])
redis.call('HINCRBY', KEYS[4], 'm:' .. yyyymm(day), rec[4])
redis.call('HINCRBY', KEYS[4], 'charged', rec[4])
redis.call('HINCRBY', KEYS[4], 'confirmed', 1)
redis.call('XADD', KEYS[5], 'MAXLEN', '~', 1000000, '*', 'cluster', ARGV[6], 'key', ARGV[2], 'token', ARGV[3], 'action', rec[5],
  'amount', rec[4], 'currency', rec[6], 'at', now, 'digest', rec[7], 'trace', ARGV[7])
return { 'confirmed', '' }
