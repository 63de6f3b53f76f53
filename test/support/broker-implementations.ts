import { Redis, type Cluster } from 'ioredis';
import { afterAll } from 'vitest';
import { MemoryBroker } from '../../src/bus/memory-broker.js';
import { connectRedis } from '../../src/bus/redis/connect-redis.js';
import { RedisBroker } from '../../src/bus/redis/redis-broker.js';
import { connectRedisCluster } from '../../src/bus/redis/connect-redis-cluster.js';
import { RedisClusterBroker } from '../../src/bus/redis/redis-cluster-broker.js';
import { redisClusterEnabled, startRedisCluster, type TestRedisCluster } from './redis-cluster.js';
import type { Broker, Topic } from '../../src/ports/broker.js';
import { silentLogger, type Logger } from '../../src/ports/logger.js';
import { deleteKeys, randomPrefix, redisEnabled, TEST_REDIS_URL } from './redis.js';

/** Brokers sharing one bus (one prefix): `open()` is another server instance joining it. */
export interface BrokerCluster {
  open(log?: Logger): Promise<Broker>;
  /**
   * How many remote subscriptions the bus holds for `topic` across the cluster's brokers
   * (Redis: PUBSUB NUMSUB); null where there is nothing remote (memory).
   */
  remoteSubscribers(topic: Topic): Promise<number | null>;
  close(): Promise<void>;
}

/**
 * One entry per Broker implementation; `test/conformance/broker.test.ts` runs the same suite on
 * each. A new implementation (Redis Cluster: SPUBLISH/SSUBSCRIBE) adds itself to `brokerImplementations`.
 */
export interface Implementation {
  readonly name: string;
  cluster(): BrokerCluster;
}

export const memoryImplementation: Implementation = {
  name: 'memory',
  // One process is one instance: every "instance" of a memory cluster is the same bus.
  cluster() {
    let broker: MemoryBroker | null = null;
    return {
      open: async (log) => (broker ??= new MemoryBroker(log)),
      remoteSubscribers: async () => null,
      close: async () => broker?.close(),
    };
  },
};

export const redisImplementation: Implementation = {
  name: 'redis',
  cluster() {
    const prefix = randomPrefix();
    const brokers: RedisBroker[] = [];
    const clients: Redis[] = [];
    let admin: Redis | null = null;
    return {
      async open(log) {
        const pub = await connectRedis(TEST_REDIS_URL, 'test-pub', silentLogger);
        const sub = await connectRedis(TEST_REDIS_URL, 'test-sub', silentLogger);
        clients.push(pub, sub);
        const broker = new RedisBroker(pub, sub, { prefix, instanceId: `i${brokers.length}`, log });
        await broker.start();
        brokers.push(broker);
        return broker;
      },
      async remoteSubscribers(topic) {
        admin ??= await connectRedis(TEST_REDIS_URL, 'test-admin', silentLogger);
        const reply = (await admin.call('PUBSUB', 'NUMSUB', `${prefix}t:${topic}`)) as [string, number];
        return Number(reply[1]);
      },
      async close() {
        for (const b of brokers) await b.close();
        for (const c of clients) c.disconnect();
        admin?.disconnect();
        await deleteKeys(prefix);
      },
    };
  },
};

/** Sharded pub/sub on a real 3-master cluster, one per test file (started by `brokerImplementations`). */
export function redisClusterImplementation(cluster: TestRedisCluster): Implementation {
  return {
    name: 'redis-cluster',
    cluster() {
      const prefix = randomPrefix();
      const brokers: RedisClusterBroker[] = [];
      const clients: Cluster[] = [];
      return {
        async open(log) {
          const pub = await connectRedisCluster(cluster.seeds, 'test-pub', silentLogger, { redisOptions: { autoResendUnfulfilledCommands: false } });
          const sub = await connectRedisCluster(cluster.seeds, 'test-sub', silentLogger, { shardedSubscribers: true });
          clients.push(pub, sub);
          const broker = new RedisClusterBroker(pub, sub, { prefix, instanceId: `i${brokers.length}`, log });
          await broker.start();
          brokers.push(broker);
          return broker;
        },
        // Sharded subscriptions live on the master owning the channel's slot: ask every master.
        async remoteSubscribers(topic) {
          let n = 0;
          for (const node of cluster.nodes) {
            if (!node.process) continue;
            const probe = new Redis(node.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
            probe.on('error', () => {});
            try {
              const reply = (await probe.call('PUBSUB', 'SHARDNUMSUB', `${prefix}t:${topic}`)) as [string, number];
              n += Number(reply[1]);
            } finally {
              probe.disconnect();
            }
          }
          return n;
        },
        async close() {
          for (const b of brokers) await b.close();
          for (const c of clients) c.disconnect();
        },
      };
    },
  };
}

/** Call at a test file's top level: the cluster entry starts a cluster for that file and stops it after. */
export async function brokerImplementations(): Promise<Implementation[]> {
  const list = (await redisEnabled()) ? [memoryImplementation, redisImplementation] : [memoryImplementation];
  if (redisClusterEnabled) {
    const cluster = await startRedisCluster();
    afterAll(() => cluster.stop());
    list.push(redisClusterImplementation(cluster));
  }
  return list;
}
