-- Dedup and tally one batch of complaints atomically (one Kafka message).
-- ARGV: pos_prefix, dedup_ttl, ttl_m, ttl_h, ttl_d, n, then n x (index, id, province, field, minute, late)
-- A complaint is counted only if its id was never seen; if it was seen at this same stream
-- position the message is a redelivery (worker crash) and is skipped silently; if seen at
-- another position it is a duplicate, returned to the caller for the dead-letter topic.
local pre = ARGV[1]
local dttl = tonumber(ARGV[2])
local ttl = {m = tonumber(ARGV[3]), h = tonumber(ARGV[4]), d = tonumber(ARGV[5])}
local n = tonumber(ARGV[6])
local acc = {}
local new, redelivered, late = 0, 0, 0
local dups = {}
for i = 0, n - 1 do
  local b = 7 + i * 6
  local pos = pre .. ':' .. ARGV[b]
  local prev = redis.call('SET', 'cc:seen:' .. ARGV[b + 1], pos, 'NX', 'GET', 'EX', dttl)
  if not prev then
    new = new + 1
    if ARGV[b + 5] == '1' then late = late + 1 end
    local prov, field, mb = ARGV[b + 2], ARGV[b + 3], ARGV[b + 4]
    local ks = {'m:' .. mb .. ':' .. prov, 'h:' .. string.sub(mb, 1, 10) .. ':' .. prov,
                'd:' .. string.sub(mb, 1, 8) .. ':' .. prov, 'all:all:' .. prov}
    for _, k in ipairs(ks) do
      local t = acc[k]
      if not t then t = {}; acc[k] = t end
      t[field] = (t[field] or 0) + 1
    end
  elseif prev == pos then
    redelivered = redelivered + 1
  else
    dups[#dups + 1] = ARGV[b]
    dups[#dups + 1] = prev
  end
end
for k, t in pairs(acc) do
  local key = 'cc:t:' .. k
  for f, c in pairs(t) do redis.call('HINCRBY', key, f, c) end
  local w = string.match(k, '^(%a+):')
  local x = ttl[w]
  if x and x > 0 then redis.call('EXPIRE', key, x, 'NX') end
end
if new > 0 then redis.call('HINCRBY', 'cc:stats', 'accepted', new) end
if redelivered > 0 then redis.call('HINCRBY', 'cc:stats', 'redelivered', redelivered) end
if late > 0 then redis.call('HINCRBY', 'cc:stats', 'late_after_grace', late) end
return {new, redelivered, dups}
