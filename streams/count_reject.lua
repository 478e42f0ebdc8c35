-- Count one dead-lettered item exactly once. KEYS: none. ARGV: ref, reason_code, day, dedup_ttl
if redis.call('SET', 'cc:rej:' .. ARGV[1], '1', 'NX', 'EX', tonumber(ARGV[4])) then
  redis.call('HINCRBY', 'cc:rejects', ARGV[2], 1)
  redis.call('HINCRBY', 'cc:rejects:d:' .. ARGV[3], ARGV[2], 1)
  redis.call('HINCRBY', 'cc:stats', 'rejected', 1)
  if ARGV[2] == 'duplicate_id' then redis.call('HINCRBY', 'cc:stats', 'duplicate', 1) end
  return 1
end
return 0
