-- Count one dead-lettered item exactly once.
-- KEYS: dedup key (cc:rej:{ref}), reasons hash (cc:rejects), the day's reasons hash
-- (cc:rejects:d:{day}), stats hash (cc:stats); in cluster mode all four carry the {rej} tag.
-- ARGV: reason_code, dedup_ttl
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[2])) then
  redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
  redis.call('HINCRBY', KEYS[3], ARGV[1], 1)
  redis.call('HINCRBY', KEYS[4], 'rejected', 1)
  if ARGV[1] == 'duplicate_id' then redis.call('HINCRBY', KEYS[4], 'duplicate', 1) end
  return 1
end
return 0
