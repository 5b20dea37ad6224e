--[[
  publish-snapshot-1.lua: stores a control snapshot and announces it, unless a newer one is already stored
  (so a slow bot replica never overwrites a newer state with an older one).

  KEYS[1]  hash {version, doc} of the newest snapshot
  ARGV[1]  version of this snapshot
  ARGV[2]  snapshot JSON
  ARGV[3]  pub/sub channel
  ARGV[4]  announcement JSON ({"prev":<version it follows>,"snapshot":<doc>})

  Returns 1 when stored and announced, 0 when the stored snapshot was as new or newer.
]]
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '-1')
if current >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'doc', ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
