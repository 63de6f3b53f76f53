import type { Cluster, Redis } from 'ioredis';
import { silentLogger, type Logger } from '../../ports/logger.js';
import type { RateLimiter } from '../../ports/rate-limiter.js';
import { MemoryRateLimiter } from '../memory-rate-limiter.js';

/**
 * KEYS[1] the key's log; ARGV now, windowMs, limit, member -> 1 allowed, 0 refused.
 * Same rule as the memory limiter: drop hits at or before now - window, refuse when `limit`
 * remain, otherwise log this hit. A refused hit is not logged.
 */
const SCRIPT = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return 1`;

const COMMAND = 'polychatRateLimitHit';

/**
 * The sliding-window log of MemoryRateLimiter, in Redis: one sorted set per key
 * (`${prefix}rate:${key}`, scored by hit time, expiring one window after the last hit) and
 * one atomic script per hit, so the limit holds across every instance sharing the Redis.
 * On Redis Cluster each hit touches that one key only, so the script runs on the key's master
 * and limits spread over the cluster without hash tags.
 * Hit times are the callers' clocks (the port's `now`), as in memory; instances are expected
 * to keep their clocks in sync (NTP), a skew of d ms shifts the window by at most d.
 *
 * While Redis is unreachable the limiter degrades to a per-instance memory limiter with the same
 * rule (so sends neither fail nor go unlimited: at most `limit` per instance), with a warning at
 * most every 5 s; it uses Redis again as soon as a script call succeeds.
 */
export class RedisRateLimiter implements RateLimiter {
  private counter = 0;
  private readonly tag = Math.random().toString(36).slice(2, 10);
  private readonly fallback = new MemoryRateLimiter();
  private lastWarn = 0;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix: string,
    private readonly log: Logger = silentLogger,
  ) {
    redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: SCRIPT });
  }

  async hit(key: string, limit: number, windowMs: number, now: number): Promise<boolean> {
    const member = `${now}-${this.tag}-${(this.counter = (this.counter + 1) % Number.MAX_SAFE_INTEGER)}`;
    const run = (this.redis as unknown as Record<string, (...args: (string | number)[]) => Promise<number>>)[COMMAND];
    if (!run) throw new Error('rate limit script is not defined');
    try {
      const allowed = await run.call(this.redis, `${this.prefix}rate:${key}`, now, windowMs, limit, member);
      return allowed === 1;
    } catch (err) {
      if (Date.now() - this.lastWarn > 5000) {
        this.lastWarn = Date.now();
        this.log.warn({ err: { message: (err as Error).message } }, 'redis unreachable: rate limit enforced per instance meanwhile');
      }
      return this.fallback.hit(key, limit, windowMs, now);
    }
  }
}
