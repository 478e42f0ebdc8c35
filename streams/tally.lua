-- Dedup and tally one batch of complaints atomically (one Kafka message, or one province of it).
-- KEYS: the stats hash to bump (cc:stats; in cluster mode cc:{province}:stats, whose slot routes
-- the call: the caller then sends one province per call, so every key below is in that slot).
-- ARGV: pos_prefix, dedup_ttl, ttl_m, ttl_h, ttl_d, ttl_docs, batch, cluster (1: hash-tagged keys),
--       first watermark (minute bucket: a province's watermark if it has none yet), docs
-- batch: JSON [[index, id, province, field, minute, late], ...] (one string: far cheaper
-- to pass than thousands of arguments).
-- docs: the batch's documents in its order, each one line ("\n" after each; a JSON text has
-- no raw line break), or '' for none. A document is the masked complaint with its extracted
-- terms; it is appended to that hour's document list, so topic counts are exactly-once too.
-- (Apart from the batch: decoding them as JSON strings inside the batch cost more than the rest.)
-- A complaint is counted only if its id was never seen; if it was seen at this same stream
-- position the message is a redelivery (worker crash) and is skipped silently; if seen at
-- another position it is a duplicate, returned to the caller for the dead-letter topic.
--
-- Hot path: a complaint is counted in its MINUTE bucket only. Closed minutes are folded into
-- their hour, day and the total once a minute by fold.lua, which moves the province's
-- watermark (cc:t:fold:{p} field "upto": every minute bucket before it is folded) in the same
-- atomic step. A complaint whose minute is already folded (late: an import, a replay) is
-- written into all four windows here instead. Readers add the minutes from the watermark on
-- (streams.store.read_tallies). The first batch of a province sets the watermark to where a
-- fold now would put it (ARGV[9]): history imported first takes the late path, so a fold never
-- walks a long past minute by minute.
local pre = ARGV[1]
local dttl = tonumber(ARGV[2])
local ttl = {m = tonumber(ARGV[3]), h = tonumber(ARGV[4]), d = tonumber(ARGV[5])}
local docs_ttl = tonumber(ARGV[6])
local batch = cjson.decode(ARGV[7])
local cluster = ARGV[8] == '1'
local stats = KEYS[1]
local docs_s = ARGV[10] or ''
local dpos = 1
local function tag(p) if cluster then return '{' .. p .. '}' end return p end
local function seen(p, id) if cluster then return 'cc:{' .. p .. '}:seen:' .. id end return 'cc:seen:' .. id end
local docs = {}
local acc = {}
local new, redelivered, late = 0, 0, 0
local dups = {}
local bumped = {}   -- province -> {bucket field -> true}: closed buckets this batch wrote into
local upto = {}     -- province -> its fold watermark (minute bucket text)
local expire = {}   -- keys to give their window's TTL: not an open minute (fold.lua does that
                    -- when it folds it, so a minute never expires before it is folded)
local function add(k, field)
  local t = acc[k]
  if not t then t = {}; acc[k] = t end
  t[field] = (t[field] or 0) + 1
end
for _, c in ipairs(batch) do
  local pos = pre .. ':' .. c[1]
  local doc = ''
  if docs_s ~= '' then
    local nl = string.find(docs_s, '\n', dpos, true)
    doc = string.sub(docs_s, dpos, nl - 1)
    dpos = nl + 1
  end
  local prev = redis.call('SET', seen(c[3], c[2]), pos, 'NX', 'GET', 'EX', dttl)
  if not prev then
    new = new + 1
    local prov, field, mb = c[3], c[4], c[5]
    local tp = tag(prov)
    local u = upto[prov]
    if not u then
      local fk = 'cc:t:fold:' .. tp
      u = redis.call('HGET', fk, 'upto')
      if not u then
        u = ARGV[9]
        redis.call('HSET', fk, 'upto', u)
      end
      upto[prov] = u
    end
    if c[6] == 1 then
      late = late + 1
      -- a late complaint writes into buckets readers may hold as closed: bump their versions
      local b = bumped[prov]
      if not b then b = {}; bumped[prov] = b end
      b['m:' .. mb] = true; b['h:' .. string.sub(mb, 1, 10)] = true; b['d:' .. string.sub(mb, 1, 8)] = true
    end
    add('m:' .. mb .. ':' .. tp, field)
    if mb < u then   -- its minute is folded already: the other windows directly
      expire['m:' .. mb .. ':' .. tp] = true
      add('h:' .. string.sub(mb, 1, 10) .. ':' .. tp, field)
      add('d:' .. string.sub(mb, 1, 8) .. ':' .. tp, field)
      add('all:all:' .. tp, field)
    end
    if doc ~= '' then
      local dk = 'cc:docs:' .. string.sub(mb, 1, 10) .. ':' .. tp
      local l = docs[dk]
      if not l then l = {}; docs[dk] = l end
      l[#l + 1] = doc
    end
  elseif prev == pos then
    redelivered = redelivered + 1
  else
    dups[#dups + 1] = tostring(c[1])
    dups[#dups + 1] = prev
  end
end
for k, t in pairs(acc) do
  local key = 'cc:t:' .. k
  for f, c in pairs(t) do redis.call('HINCRBY', key, f, c) end
  local w = string.match(k, '^(%a+):')
  local x = ttl[w]
  if x and x > 0 and (w ~= 'm' or expire[k]) then redis.call('EXPIRE', key, x, 'NX') end
end
for k, l in pairs(docs) do
  for i = 1, #l, 500 do
    redis.call('RPUSH', k, unpack(l, i, math.min(i + 499, #l)))
  end
  if docs_ttl > 0 then redis.call('EXPIRE', k, docs_ttl, 'NX') end
end
for prov, b in pairs(bumped) do
  local vk = 'cc:tver:' .. tag(prov)
  for f, _ in pairs(b) do redis.call('HINCRBY', vk, f, 1) end
  redis.call('HINCRBY', vk, '_all', 1)
  if ttl.d and ttl.d > 0 then redis.call('EXPIRE', vk, ttl.d) end
end
if new > 0 then redis.call('HINCRBY', stats, 'accepted', new) end
if redelivered > 0 then redis.call('HINCRBY', stats, 'redelivered', redelivered) end
if late > 0 then redis.call('HINCRBY', stats, 'late_after_grace', late) end
return {new, redelivered, dups}
