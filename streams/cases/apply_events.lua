-- Apply one Kafka message's case events exactly once (one atomic step per message).
-- ARGV: position, dedup_ttl, keep_ttl, hold_ttl, now, batch
-- batch: JSON [[index, event_id, complaint_id, event_json], ...]
-- An event id already seen at this same stream position is a redelivery (skipped silently);
-- seen at another position it is a duplicate (returned, for the dead-letter topic). A new
-- event joins its complaint's case (cc:case:{cid}, field e:{eid}); if the case is not there
-- yet the event waits in cc:cases:held:{cid} until the complaint arrives (or the timer
-- dead-letters it after hold_ttl). The case is flagged for the timer (cc:cases:open, score now).
local pos, dttl, keep, hold, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local batch = cjson.decode(ARGV[6])
local applied, held, redelivered = 0, 0, 0
local dups = {}
for _, e in ipairs(batch) do
  local prev = redis.call('SET', 'cc:cev:' .. e[2], pos .. ':' .. e[1], 'NX', 'GET', 'EX', dttl)
  if not prev then
    local ck = 'cc:case:' .. e[3]
    if redis.call('EXISTS', ck) == 1 then
      redis.call('HSET', ck, 'e:' .. e[2], e[4])
      redis.call('ZADD', 'cc:cases:open', now, e[3])
      local dk = cjson.decode(redis.call('HGET', ck, 'c'))['dk']
      if dk then redis.call('HINCRBY', 'cc:cases:ver', dk, 1) end
      applied = applied + 1
    else
      local hk = 'cc:cases:held:' .. e[3]
      redis.call('HSET', hk, 'e:' .. e[2], e[4])
      redis.call('EXPIRE', hk, hold * 2 + 86400)
      redis.call('ZADD', 'cc:cases:held', 'NX', now, e[3])
      held = held + 1
    end
  elseif prev == pos .. ':' .. e[1] then
    redelivered = redelivered + 1
  else
    dups[#dups + 1] = tostring(e[1])
    dups[#dups + 1] = prev
  end
end
if applied > 0 then redis.call('HINCRBY', 'cc:cases:stats', 'applied', applied) end
if held > 0 then redis.call('HINCRBY', 'cc:cases:stats', 'held', held) end
if redelivered > 0 then redis.call('HINCRBY', 'cc:cases:stats', 'redelivered', redelivered) end
return {applied, held, redelivered, dups}
