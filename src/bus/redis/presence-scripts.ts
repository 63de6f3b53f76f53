/**
 * The Lua scripts behind RedisPresenceStore. Each runs atomically, so "became online",
 * "became offline" and "expired" are decided exactly once across all instances.
 *
 * Keys (P = REDIS_PREFIX):
 *   P presence:conns:<userId>  ZSET  member `<instanceId>:<connectionId>`, score = lease expiry (ms)
 *   P presence:online          ZSET  member userId, score = the user's latest lease expiry (ms)
 *   P presence:last_seen       HASH  userId -> ms
 *
 * On Redis Cluster the three live under one hash tag per presence shard
 * (`P presence:{s<k>}:…`, see `presence-keys.ts`), so each script's keys share a slot; the sweep
 * builds `conns` keys from `connsKeyPrefix`, which carries the same tag, so those stay in the
 * slot too (Redis allows an undeclared key only in the script's own slot).
 *
 * Invariant: a user is in `online` exactly while its last announcement was "online". Lease
 * times come from Redis's own clock (TIME), so instances with skewed clocks agree on expiry.
 */
const NOW = `local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

export const presenceScripts = {
  /** KEYS conns, online; ARGV member, leaseMs, userId -> 1 when the user became online. */
  connect: `${NOW}
local t = now_ms()
local lease = tonumber(ARGV[2])
local was = redis.call('ZSCORE', KEYS[2], ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', t)
redis.call('ZADD', KEYS[1], t + lease, ARGV[1])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('ZADD', KEYS[2], top[2], ARGV[3])
redis.call('PEXPIREAT', KEYS[1], tonumber(top[2]) + lease)
if was then return 0 end
return 1`,

  /** KEYS conns, online, last_seen; ARGV member, userId, nowMs -> {becameOffline, lastSeen}. */
  disconnect: `${NOW}
local t = now_ms()
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  return {0, redis.call('HGET', KEYS[3], ARGV[2]) or ARGV[3]}
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', t)
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if top[1] then
  redis.call('ZADD', KEYS[2], top[2], ARGV[2])
  return {0, ARGV[3]}
end
if redis.call('ZREM', KEYS[2], ARGV[2]) == 1 then
  redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
  return {1, ARGV[3]}
end
return {0, redis.call('HGET', KEYS[3], ARGV[2]) or ARGV[3]}`,

  /**
   * KEYS conns, online; ARGV userId, leaseMs, member... -> 1 when the user was not online
   * (its leases had been swept, e.g. after a long stall or a Redis restart without persistence).
   */
  renew: `${NOW}
local t = now_ms()
local lease = tonumber(ARGV[2])
for i = 3, #ARGV do redis.call('ZADD', KEYS[1], t + lease, ARGV[i]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', t)
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if not top[1] then return 0 end
local was = redis.call('ZSCORE', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[2], top[2], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], tonumber(top[2]) + lease)
if was then return 0 end
return 1`,

  /**
   * KEYS online, last_seen; ARGV connsKeyPrefix, leaseMs, batch -> flat {userId, lastSeen, ...}
   * of users whose leases have all expired, removed here (so only one sweeper reports each).
   * lastSeen is the last renewal (expiry - lease).
   */
  sweep: `${NOW}
local t = now_ms()
local lease = tonumber(ARGV[2])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', t, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for i = 1, #due, 2 do
  local user = due[i]
  local ck = ARGV[1] .. user
  redis.call('ZREMRANGEBYSCORE', ck, '-inf', t)
  local top = redis.call('ZRANGE', ck, -1, -1, 'WITHSCORES')
  if top[1] then
    redis.call('ZADD', KEYS[1], top[2], user)
  else
    redis.call('ZREM', KEYS[1], user)
    local seen = string.format('%d', math.min(t, tonumber(due[i + 1]) - lease))
    redis.call('HSET', KEYS[2], user, seen)
    out[#out + 1] = user
    out[#out + 1] = seen
  end
end
return out`,

  /** KEYS online; ARGV userId... -> the ones holding a live (unexpired) lease. */
  online: `${NOW}
local t = now_ms()
local out = {}
for i = 1, #ARGV do
  local s = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if s and tonumber(s) > t then out[#out + 1] = ARGV[i] end
end
return out`,
} as const;
