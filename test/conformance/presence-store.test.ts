import type { Cluster as RedisCluster, Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MemoryPresenceStore } from '../../src/bus/memory-presence-store.js';
import { connectRedisCluster } from '../../src/bus/redis/connect-redis-cluster.js';
import { connectRedis } from '../../src/bus/redis/connect-redis.js';
import { CLUSTER_PRESENCE_SHARDS, PresenceKeys } from '../../src/bus/redis/presence-keys.js';
import { RedisPresenceStore } from '../../src/bus/redis/redis-presence-store.js';
import { silentLogger } from '../../src/ports/logger.js';
import type { PresenceStore } from '../../src/ports/presence-store.js';
import { redisClusterEnabled, startRedisCluster } from '../support/redis-cluster.js';
import { countKeys, deleteKeys, randomPrefix, redisEnabled, TEST_REDIS_URL } from '../support/redis.js';
import { sleep, waitFor } from '../support/wait.js';

/** Short timings so that expiry happens within a test (production: 25 s / 10 s / 5 s). */
const TIMINGS = { leaseMs: 1200, renewMs: 250, sweepMs: 150 };

/** Stores sharing one presence (one prefix): `open(id)` is another server instance. */
interface Cluster {
  open(instanceId: string): Promise<PresenceStore>;
  close(): Promise<void>;
}
interface Implementation {
  readonly name: string;
  cluster(): Cluster;
}

/** A Redis-backed implementation: how its keys are laid out and counted. */
interface RedisImplementation extends Implementation {
  /** PresenceKeys' shard count (null: the one-Redis layout). */
  readonly shards: number | null;
  countKeys(prefix: string): Promise<number>;
}

const memory: Implementation = {
  name: 'memory',
  // One process is one instance: every "instance" of a memory cluster is the same store.
  cluster() {
    const store = new MemoryPresenceStore();
    return { open: async () => store, close: () => store.close() };
  },
};

const redisClusters = new Map<PresenceStore, { prefix: string }>();

function redisBacked(
  name: string,
  shards: number | null,
  connect: (instanceId: string) => Promise<Redis | RedisCluster>,
  keys: { count(prefix: string): Promise<number>; remove(prefix: string): Promise<void> },
): RedisImplementation {
  return {
    name,
    shards,
    countKeys: (prefix) => keys.count(prefix),
    cluster() {
      const prefix = randomPrefix();
      const stores: RedisPresenceStore[] = [];
      const clients: (Redis | RedisCluster)[] = [];
      return {
        async open(instanceId) {
          const client = await connect(instanceId);
          clients.push(client);
          const store = new RedisPresenceStore(client, { prefix, instanceId, ...TIMINGS, ...(shards === null ? {} : { shards }) });
          stores.push(store);
          redisClusters.set(store, { prefix });
          return store;
        },
        async close() {
          for (const s of stores) await s.close();
          for (const c of clients) c.disconnect();
          await keys.remove(prefix);
        },
      };
    },
  };
}

const redis = redisBacked('redis', null, (id) => connectRedis(TEST_REDIS_URL, `test-${id}`, silentLogger), { count: countKeys, remove: deleteKeys });

// One real 3-master cluster for the whole file (it takes a few seconds to start).
const cluster = redisClusterEnabled ? await startRedisCluster() : null;
afterAll(async () => cluster?.stop());
const redisCluster = cluster
  ? redisBacked('redis-cluster', CLUSTER_PRESENCE_SHARDS, (id) => connectRedisCluster(cluster.seeds, `test-${id}`, silentLogger), {
      count: (prefix) => cluster.countKeys(prefix),
      remove: (prefix) => cluster.deleteKeys(prefix),
    })
  : null;

const redisImplementations: RedisImplementation[] = [...((await redisEnabled()) ? [redis] : []), ...(redisCluster ? [redisCluster] : [])];
const implementations: Implementation[] = [memory, ...redisImplementations];

describe.each(implementations)('PresenceStore conformance: $name', (impl) => {
  const clusters: Cluster[] = [];
  const cluster = (): Cluster => {
    const c = impl.cluster();
    clusters.push(c);
    return c;
  };
  afterEach(async () => {
    for (const c of clusters.splice(0)) await c.close();
  });

  it('reports the first connect and the last disconnect exactly once, across instances', async () => {
    const c = cluster();
    const a = await c.open('a');
    const b = await c.open('b');
    expect(await a.connect('u1', 'c1', 1000)).toEqual({ becameOnline: true });
    expect(await b.connect('u1', 'c2', 1001)).toEqual({ becameOnline: false });
    expect(await a.connect('u1', 'c3', 1002)).toEqual({ becameOnline: false });
    expect([...(await b.isOnline(['u1']))]).toEqual(['u1']);
    expect(await a.disconnect('u1', 'c1', 2000)).toMatchObject({ becameOffline: false });
    expect(await b.disconnect('u1', 'c2', 2001)).toMatchObject({ becameOffline: false });
    expect([...(await a.isOnline(['u1']))]).toEqual(['u1']);
    expect(await a.disconnect('u1', 'c3', 2002)).toEqual({ becameOffline: true, lastSeen: 2002 });
    expect(await a.isOnline(['u1'])).toEqual(new Set());
    expect(await b.lastSeen('u1')).toBe(2002);
    // Online again after being offline: reported again.
    expect(await b.connect('u1', 'c4', 3000)).toEqual({ becameOnline: true });
    expect(await b.disconnect('u1', 'c4', 3001)).toEqual({ becameOffline: true, lastSeen: 3001 });
  });

  it('decides online/offline once under concurrent connects and disconnects on two instances', async () => {
    const c = cluster();
    const stores = [await c.open('a'), await c.open('b')];
    const ids = [...Array(20).keys()].map((i) => `c${i}`);
    const opened = await Promise.all(ids.map((id, i) => stores[i % 2]!.connect('u1', id, 1000)));
    expect(opened.filter((r) => r.becameOnline)).toHaveLength(1);
    const closed = await Promise.all(ids.map((id, i) => stores[i % 2]!.disconnect('u1', id, 2000)));
    expect(closed.filter((r) => r.becameOffline)).toHaveLength(1);
    expect(await stores[0]!.isOnline(['u1'])).toEqual(new Set());
  });

  it('ignores a disconnect of a connection it never saw', async () => {
    const c = cluster();
    const a = await c.open('a');
    expect(await a.disconnect('nobody', 'c1', 5000)).toEqual({ becameOffline: false, lastSeen: 5000 });
    await a.connect('u1', 'c1', 1000);
    expect(await a.disconnect('u1', 'other', 1500)).toMatchObject({ becameOffline: false });
    expect(await a.isOnline(['u1'])).toEqual(new Set(['u1']));
    expect(await a.lastSeen('nobody')).toBeNull();
  });

  it('answers isOnline for a mixed list, and lastSeen only for users that went offline', async () => {
    const c = cluster();
    const a = await c.open('a');
    const b = await c.open('b');
    await a.connect('u1', 'c1', 1000);
    await b.connect('u2', 'c2', 1000);
    await b.connect('u3', 'c3', 1000);
    await b.disconnect('u3', 'c3', 1500);
    expect(await a.isOnline(['u1', 'u2', 'u3', 'u4'])).toEqual(new Set(['u1', 'u2']));
    expect(await a.isOnline([])).toEqual(new Set());
    expect(await a.lastSeen('u1')).toBeNull();
    expect(await a.lastSeen('u3')).toBe(1500);
  });

  it('keeps live connections online well past the lease (renewals) and reports no expiry', async () => {
    const c = cluster();
    const a = await c.open('a');
    const b = await c.open('b');
    const expired: string[] = [];
    a.onExpired?.((userId) => void expired.push(userId));
    b.onExpired?.((userId) => void expired.push(userId));
    await a.connect('u1', 'c1', 1000);
    await b.connect('u2', 'c2', 1000);
    await sleep(TIMINGS.leaseMs * 3);
    expect(await b.isOnline(['u1', 'u2'])).toEqual(new Set(['u1', 'u2']));
    expect(expired).toEqual([]);
  });
});

describe.each(redisImplementations)('RedisPresenceStore: leases on $name', (redis) => {
  const clusters: Cluster[] = [];
  afterEach(async () => {
    for (const c of clusters.splice(0)) await c.close();
  });

  it("reports a crashed instance's users exactly once, within the lease, and leaves shared users online", async () => {
    const c = redis.cluster();
    clusters.push(c);
    const crashed = (await c.open('crashed')) as RedisPresenceStore;
    const b = (await c.open('b')) as RedisPresenceStore;
    const d = (await c.open('d')) as RedisPresenceStore;
    const reports: [string, number][] = [];
    for (const s of [crashed, b, d]) s.onExpired((userId, lastSeen) => void reports.push([userId, lastSeen]));
    const before = Date.now();
    await crashed.connect('u1', 'c1', before);
    await crashed.connect('u1', 'c2', before);
    await crashed.connect('u2', 'c3', before);
    await b.connect('u2', 'c4', before);
    crashed.abandon();

    await waitFor(() => reports.length >= 1, 15_000, 'expiry report');
    // More sweeps from both survivors: nobody reports it a second time.
    await Promise.all([b.sweepNow(), d.sweepNow()]);
    await sleep(TIMINGS.sweepMs * 3);
    expect(reports.map(([u]) => u)).toEqual(['u1']);
    const lastSeen = reports[0]![1];
    expect(lastSeen).toBeGreaterThanOrEqual(before - 1000);
    expect(lastSeen).toBeLessThanOrEqual(Date.now());
    expect(await b.isOnline(['u1', 'u2'])).toEqual(new Set(['u2']));
    expect(await d.lastSeen('u1')).toBe(lastSeen);
    // The survivor's user goes offline normally, once.
    expect(await b.disconnect('u2', 'c4', Date.now())).toMatchObject({ becameOffline: true });
  });

  it('stops counting an expired lease before any sweep runs', async () => {
    const c = redis.cluster();
    clusters.push(c);
    const crashed = (await c.open('crashed')) as RedisPresenceStore;
    await crashed.connect('u1', 'c1', Date.now());
    crashed.abandon();
    // No other instance sweeps here: isOnline alone must see the lease run out.
    await waitFor(async () => (await crashed.isOnline(['u1'])).size === 0, 15_000, 'lease to run out');
  });

  it('close() releases its leases and reports the users that thereby go offline', async () => {
    const c = redis.cluster();
    clusters.push(c);
    const a = (await c.open('a')) as RedisPresenceStore;
    const b = (await c.open('b')) as RedisPresenceStore;
    const reports: string[] = [];
    a.onExpired((userId) => void reports.push(`a:${userId}`));
    b.onExpired((userId) => void reports.push(`b:${userId}`));
    await a.connect('u1', 'c1', 1000);
    await a.connect('u2', 'c2', 1000);
    await b.connect('u2', 'c3', 1000);
    await a.close();
    expect(reports).toEqual(['a:u1']);
    expect(await b.isOnline(['u1', 'u2'])).toEqual(new Set(['u2']));
    expect(await b.lastSeen('u1')).not.toBeNull();
  });

  it('answers and expires users spread over every presence shard, each reported once', async () => {
    const c = redis.cluster();
    clusters.push(c);
    const crashed = (await c.open('crashed')) as RedisPresenceStore;
    const b = (await c.open('b')) as RedisPresenceStore;
    const reports: string[] = [];
    for (const s of [crashed, b]) s.onExpired((userId) => void reports.push(userId));
    const users = [...Array(48).keys()].map((i) => `user-${i}`);
    for (const u of users) await crashed.connect(u, `c-${u}`, Date.now());
    await b.connect('stays', 'c-stays', Date.now());
    expect(await b.isOnline([...users, 'stays', 'nobody'])).toEqual(new Set([...users, 'stays']));
    crashed.abandon();
    await waitFor(() => reports.length >= users.length, 15_000, 'every expiry report');
    await b.sweepNow();
    expect(reports.sort()).toEqual([...users].sort());
    expect(await b.isOnline([...users, 'stays'])).toEqual(new Set(['stays']));
  });

  it('keeps every key under its prefix and leaves no lease keys behind once all are offline', async () => {
    const c = redis.cluster();
    clusters.push(c);
    const a = (await c.open('a')) as RedisPresenceStore;
    const prefix = redisClusters.get(a)!.prefix;
    const layout = new PresenceKeys(prefix, redis.shards);
    const connsKeys = async (): Promise<number> => {
      let n = 0;
      for (const shard of layout.shards) n += await redis.countKeys(shard.connsPrefix);
      return n;
    };
    await a.connect('u1', 'c1', 1000);
    await a.connect('u2', 'c2', 1000);
    expect(await connsKeys()).toBe(2);
    await a.disconnect('u1', 'c1', 2000);
    await a.disconnect('u2', 'c2', 2000);
    expect(await connsKeys()).toBe(0);
    // last_seen only (one hash per presence shard the users fall in); the online sets emptied themselves.
    expect(await redis.countKeys(prefix)).toBe(new Set(['u1', 'u2'].map((u) => layout.shardOf(u))).size);
  });
});
