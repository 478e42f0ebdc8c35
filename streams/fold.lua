-- Fold closed minutes of one province into their hour, day and the total, exactly once.
-- KEYS: the province's fold watermark hash (cc:t:fold:{p}, field "upto").
-- ARGV: tag (the province as its keys carry it), expected watermark, new watermark,
--       ttl_h, ttl_d, ttl_m, then the minute buckets in [expected, new) to fold (YYYYmmddHHMM).
-- A minute bucket gets its TTL here, once folded (an open one never expires unfolded).
-- The watermark moves in the same atomic step as the HINCRBYs: if it is not the expected
-- one (another worker folded meanwhile) nothing happens, so a fold never counts twice.
-- Returns the number of minute buckets that held counts.
local cur = redis.call('HGET', KEYS[1], 'upto')
if cur ~= ARGV[2] then return -1 end
local tp = ARGV[1]
local ttl_h, ttl_d, ttl_m = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local acc = {}
local folded = 0
for i = 7, #ARGV do
  local mb = ARGV[i]
  local mk = 'cc:t:m:' .. mb .. ':' .. tp
  local f = redis.call('HGETALL', mk)
  if #f > 0 then
    folded = folded + 1
    if ttl_m > 0 then redis.call('EXPIRE', mk, ttl_m, 'NX') end
    for _, k in ipairs({'h:' .. string.sub(mb, 1, 10), 'd:' .. string.sub(mb, 1, 8), 'all:all'}) do
      local t = acc[k]
      if not t then t = {}; acc[k] = t end
      for j = 1, #f, 2 do t[f[j]] = (t[f[j]] or 0) + tonumber(f[j + 1]) end
    end
  end
end
for k, t in pairs(acc) do
  local key = 'cc:t:' .. k .. ':' .. tp
  for f, c in pairs(t) do redis.call('HINCRBY', key, f, c) end
  local w = string.sub(k, 1, 1)
  local x = (w == 'h' and ttl_h) or (w == 'd' and ttl_d) or 0
  if x > 0 then redis.call('EXPIRE', key, x, 'NX') end
end
redis.call('HSET', KEYS[1], 'upto', ARGV[3])
return folded
