-- Open the cases of one message's complaints; release events that waited for them. Idempotent
-- (a redelivered or duplicate complaint changes nothing), so it may run after the tally step.
-- cc:cases:ver {day}:{province} counts changes to that day's cases (readers cache by it).
-- ARGV: keep_ttl, now, batch: JSON [[complaint_id, base_json, day, province, first_moment], ...]
-- (first_moment: when the timer need look at the new case first)
local keep, now = tonumber(ARGV[1]), tonumber(ARGV[2])
local batch = cjson.decode(ARGV[3])
local opened, released = 0, 0
local ver, days = {}, {}   -- per day key: version bumps and the set to expire, once per message
redis.call('HSETNX', 'cc:cases:ver', '_gen', ARGV[2])   -- a data set's generation: caches never outlive a flush
-- no held events at all (the usual case): no look-up per complaint (nothing below adds any)
local any_held = redis.call('EXISTS', 'cc:cases:held') == 1
for _, c in ipairs(batch) do
  local ck = 'cc:case:' .. c[1]
  local vf = c[3] .. ':' .. c[4]
  if redis.call('HSETNX', ck, 'c', c[2]) == 1 then
    redis.call('EXPIRE', ck, keep)
    local dk = 'cc:cases:d:' .. c[3] .. ':' .. c[4]
    redis.call('SADD', dk, c[1])
    days[dk] = true
    redis.call('ZADD', 'cc:cases:open', c[5], c[1])
    ver[vf] = (ver[vf] or 0) + 1
    opened = opened + 1
  end
  -- events that waited for this complaint: cc:cases:held lists every id with a held hash
  if any_held and redis.call('ZSCORE', 'cc:cases:held', c[1]) then
    local hk = 'cc:cases:held:' .. c[1]
    local h = redis.call('HGETALL', hk)
    if #h > 0 then
      for i = 1, #h, 2 do redis.call('HSET', ck, h[i], h[i + 1]) end
      redis.call('DEL', hk)
      redis.call('ZADD', 'cc:cases:open', now, c[1])
      ver[vf] = (ver[vf] or 0) + 1
      released = released + #h / 2
    end
    redis.call('ZREM', 'cc:cases:held', c[1])
  end
end
for dk, _ in pairs(days) do redis.call('EXPIRE', dk, keep, 'NX') end
for f, n in pairs(ver) do redis.call('HINCRBY', 'cc:cases:ver', f, n) end
if opened > 0 then redis.call('HINCRBY', 'cc:cases:stats', 'opened', opened) end
if released > 0 then redis.call('HINCRBY', 'cc:cases:stats', 'released', released) end
return {opened, released}
