import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../../ports/logger.js';
import { connectRedis } from './connect-redis.js';
import { RedisBroker } from './redis-broker.js';
import { RedisPresenceStore, type RedisPresenceOptions } from './redis-presence-store.js';
import { RedisRateLimiter } from './redis-rate-limiter.js';

export interface RedisInfrastructureOptions {
  readonly url: string;
  /** REDIS_PREFIX: every key and the bus channel live under it. */
  readonly prefix: string;
  readonly log: Logger;
  /** Defaults to a random UUID per process. */
  readonly instanceId?: string;
  /** Lease/renew/sweep timings (tests shorten them). */
  readonly presence?: Pick<RedisPresenceOptions, 'leaseMs' | 'renewMs' | 'sweepMs'>;
}

/**
 * The bus ports on Redis, so several server processes sharing one database and one Redis act
 * as one server. Three connections: a publisher, a subscriber (pub/sub needs its own), and one
 * for presence and rate-limit scripts (so lease renewals never delay a publish).
 */
export async function openRedisInfrastructure(options: RedisInfrastructureOptions) {
  const instanceId = options.instanceId ?? randomUUID();
  const log = options.log.child({ instanceId });
  const opened: Redis[] = [];
  try {
    // A PUBLISH in flight when the link broke may already have run: never resend it (at-most-once).
    opened.push(await connectRedis(options.url, 'polychat-pub', log, { autoResendUnfulfilledCommands: false }));
    opened.push(await connectRedis(options.url, 'polychat-sub', log));
    opened.push(await connectRedis(options.url, 'polychat-cmd', log));
  } catch (err) {
    for (const c of opened) c.disconnect();
    throw err;
  }
  const [pub, sub, cmd] = opened as [Redis, Redis, Redis];
  const broker = new RedisBroker(pub, sub, { prefix: options.prefix, instanceId, log });
  await broker.start();
  const presence = new RedisPresenceStore(cmd, { prefix: options.prefix, instanceId, log, ...options.presence });
  const limiter = new RedisRateLimiter(cmd, options.prefix, log);
  log.info({ prefix: options.prefix }, 'redis bus ready');
  return {
    broker,
    presence,
    limiter,
    checks: {
      redis: async () => {
        await broker.ping();
        await cmd.ping();
      },
    },
    async close(): Promise<void> {
      // Presence first: releasing this instance's leases announces offline through the broker.
      await presence.close();
      await broker.close();
      // QUIT lets queued publishes go out first; disconnect if Redis is not there to answer.
      await Promise.all(opened.map((c) => (c.status === 'ready' ? c.quit().then(() => {}, () => c.disconnect()) : c.disconnect())));
    },
  };
}
