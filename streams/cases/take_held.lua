-- The timer's step for one complaint id whose events waited too long: if its case exists by
-- now, release them into it; otherwise take them (the caller dead-letters them). Atomic.
-- ARGV: complaint_id, now. Returns {"released"} or {"taken", seen_flag, f1, v1, f2, v2, ...}.
local cid, now = ARGV[1], tonumber(ARGV[2])
local hk, ck = 'cc:cases:held:' .. cid, 'cc:case:' .. cid
local h = redis.call('HGETALL', hk)
redis.call('DEL', hk)
redis.call('ZREM', 'cc:cases:held', cid)
if redis.call('EXISTS', ck) == 1 then
  for i = 1, #h, 2 do redis.call('HSET', ck, h[i], h[i + 1]) end
  if #h > 0 then
    redis.call('ZADD', 'cc:cases:open', now, cid)
    local dk = cjson.decode(redis.call('HGET', ck, 'c'))['dk']
    if dk then redis.call('HINCRBY', 'cc:cases:ver', dk, 1) end
  end
  return {'released'}
end
local out = {'taken', tostring(redis.call('EXISTS', 'cc:seen:' .. cid))}
for i = 1, #h do out[#out + 1] = h[i] end
if #h > 0 then redis.call('HINCRBY', 'cc:cases:stats', 'held_expired', #h / 2) end
return out
