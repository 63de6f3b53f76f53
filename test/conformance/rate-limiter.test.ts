import type { Cluster as RedisCluster, Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MemoryRateLimiter } from '../../src/bus/memory-rate-limiter.js';
import { connectRedisCluster } from '../../src/bus/redis/connect-redis-cluster.js';
import { connectRedis } from '../../src/bus/redis/connect-redis.js';
import { RedisRateLimiter } from '../../src/bus/redis/redis-rate-limiter.js';
import { silentLogger } from '../../src/ports/logger.js';
import type { RateLimiter } from '../../src/ports/rate-limiter.js';
import { redisClusterEnabled, startRedisCluster } from '../support/redis-cluster.js';
import { countKeys, deleteKeys, randomPrefix, redisEnabled, TEST_REDIS_URL } from '../support/redis.js';

/** Limiters sharing one state (one prefix): `open()` is another server instance. */
interface Cluster {
  open(): Promise<RateLimiter>;
  close(): Promise<void>;
  readonly prefix?: string;
}
interface Implementation {
  readonly name: string;
  cluster(): Cluster;
}

const memory: Implementation = {
  name: 'memory',
  cluster() {
    const limiter = new MemoryRateLimiter();
    return { open: async () => limiter, close: async () => {} };
  },
};

/** A Redis-backed implementation, with its own way to reach and count its keys. */
interface RedisImplementation extends Implementation {
  connect(name: string): Promise<Redis | RedisCluster>;
  countKeys(prefix: string): Promise<number>;
}

function redisBacked(
  name: string,
  connect: (name: string) => Promise<Redis | RedisCluster>,
  keys: { count(prefix: string): Promise<number>; remove(prefix: string): Promise<void> },
): RedisImplementation {
  return {
    name,
    connect,
    countKeys: (prefix) => keys.count(prefix),
    cluster() {
      const prefix = randomPrefix();
      const clients: (Redis | RedisCluster)[] = [];
      return {
        prefix,
        async open() {
          const client = await connect('test-limiter');
          clients.push(client);
          return new RedisRateLimiter(client, prefix);
        },
        async close() {
          for (const c of clients) c.disconnect();
          await keys.remove(prefix);
        },
      };
    },
  };
}

const redis = redisBacked('redis', (name) => connectRedis(TEST_REDIS_URL, name, silentLogger), { count: countKeys, remove: deleteKeys });

// One real 3-master cluster for the whole file (it takes a few seconds to start).
const cluster = redisClusterEnabled ? await startRedisCluster() : null;
afterAll(async () => cluster?.stop());
const redisCluster = cluster
  ? redisBacked('redis-cluster', (name) => connectRedisCluster(cluster.seeds, name, silentLogger), {
      count: (prefix) => cluster.countKeys(prefix),
      remove: (prefix) => cluster.deleteKeys(prefix),
    })
  : null;

const redisImplementations: RedisImplementation[] = [...((await redisEnabled()) ? [redis] : []), ...(redisCluster ? [redisCluster] : [])];
const implementations: Implementation[] = [memory, ...redisImplementations];

describe.each(implementations)('RateLimiter conformance: $name', (impl) => {
  const clusters: Cluster[] = [];
  const two = async (): Promise<[RateLimiter, RateLimiter, Cluster]> => {
    const c = impl.cluster();
    clusters.push(c);
    return [await c.open(), await c.open(), c];
  };
  afterEach(async () => {
    for (const c of clusters.splice(0)) await c.close();
  });
  const t = 1_700_000_000_000;

  it('allows `limit` hits per window across instances, then refuses until the window slides', async () => {
    const [a, b] = await two();
    expect(await a.hit('k', 3, 1000, t)).toBe(true);
    expect(await b.hit('k', 3, 1000, t)).toBe(true);
    expect(await a.hit('k', 3, 1000, t + 1)).toBe(true);
    expect(await b.hit('k', 3, 1000, t + 2)).toBe(false);
    expect(await a.hit('k', 3, 1000, t + 999)).toBe(false);
    // The two hits at t leave the window at t + 1000; the one at t + 1 is still in it.
    expect(await b.hit('k', 3, 1000, t + 1000)).toBe(true);
    expect(await a.hit('k', 3, 1000, t + 1000)).toBe(true);
    expect(await b.hit('k', 3, 1000, t + 1000)).toBe(false);
  });

  it('does not count refused hits', async () => {
    const [a, b] = await two();
    expect(await a.hit('k', 2, 1000, t)).toBe(true);
    expect(await b.hit('k', 2, 1000, t)).toBe(true);
    for (let i = 0; i < 5; i++) expect(await (i % 2 ? a : b).hit('k', 2, 1000, t + 500 + i)).toBe(false);
    expect(await a.hit('k', 2, 1000, t + 1000)).toBe(true);
    expect(await b.hit('k', 2, 1000, t + 1000)).toBe(true);
    expect(await a.hit('k', 2, 1000, t + 1000)).toBe(false);
  });

  it('slides: no burst across a window boundary', async () => {
    const [a, b] = await two();
    expect(await a.hit('k', 2, 1000, t)).toBe(true);
    expect(await b.hit('k', 2, 1000, t + 600)).toBe(true);
    expect(await a.hit('k', 2, 1000, t + 900)).toBe(false);
    expect(await b.hit('k', 2, 1000, t + 1000)).toBe(true);
    expect(await a.hit('k', 2, 1000, t + 1100)).toBe(false);
    expect(await b.hit('k', 2, 1000, t + 1599)).toBe(false);
    expect(await a.hit('k', 2, 1000, t + 1600)).toBe(true);
  });

  it('keeps keys independent', async () => {
    const [a, b] = await two();
    expect(await a.hit('user:1', 1, 1000, t)).toBe(true);
    expect(await b.hit('user:1', 1, 1000, t)).toBe(false);
    expect(await b.hit('user:2', 1, 1000, t)).toBe(true);
  });

  it('holds the limit under concurrent hits from two instances', async () => {
    const [a, b] = await two();
    const results = await Promise.all([...Array(60).keys()].map((i) => (i % 2 ? a : b).hit('k', 10, 60_000, t + i)));
    expect(results.filter(Boolean)).toHaveLength(10);
  });

  it('refuses everything at limit 0', async () => {
    const [a] = await two();
    expect(await a.hit('k', 0, 1000, t)).toBe(false);
  });
});

describe.each(redisImplementations)('RedisRateLimiter: keys on $name', (redis) => {
  it('keeps one expiring key per limited key, under its prefix', async () => {
    const c = redis.cluster();
    try {
      const a = await c.open();
      await a.hit('user:1', 5, 60_000, Date.now());
      await a.hit('user:2', 5, 60_000, Date.now());
      expect(await redis.countKeys(`${c.prefix}rate:`)).toBe(2);
      const probe = await redis.connect('test-probe');
      try {
        const ttl = await probe.pttl(`${c.prefix}rate:user:1`);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(60_000);
      } finally {
        probe.disconnect();
      }
    } finally {
      await c.close();
    }
  });
});

describe.each(redisImplementations)('RedisRateLimiter: Redis unreachable on $name', (redis) => {
  it('keeps limiting, per instance, instead of failing or letting everything through', async () => {
    const c = redis.cluster();
    try {
      const client = await redis.connect('test-limiter-down');
      const limiter = new RedisRateLimiter(client, c.prefix!);
      client.disconnect();
      const t = 1_700_000_000_000;
      expect(await limiter.hit('k', 2, 1000, t)).toBe(true);
      expect(await limiter.hit('k', 2, 1000, t)).toBe(true);
      expect(await limiter.hit('k', 2, 1000, t)).toBe(false);
      expect(await limiter.hit('k', 2, 1000, t + 1000)).toBe(true);
    } finally {
      await c.close();
    }
  });
});
