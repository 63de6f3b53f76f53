import { randomUUID } from 'node:crypto';
import type { Cluster } from 'ioredis';
import type { Logger } from '../../ports/logger.js';
import { connectRedisCluster, type RedisClusterNodeAddress } from './connect-redis-cluster.js';
import { CLUSTER_PRESENCE_SHARDS } from './presence-keys.js';
import { RedisClusterBroker } from './redis-cluster-broker.js';
import { RedisPresenceStore, type RedisPresenceOptions } from './redis-presence-store.js';
import { RedisRateLimiter } from './redis-rate-limiter.js';

export interface RedisClusterInfrastructureOptions {
  /** REDIS_CLUSTER_NODES: seed nodes; the others are discovered. */
  readonly nodes: readonly RedisClusterNodeAddress[];
  readonly prefix: string;
  readonly log: Logger;
  readonly instanceId?: string;
  readonly presence?: Pick<RedisPresenceOptions, 'leaseMs' | 'renewMs' | 'sweepMs'>;
}

/**
 * The bus ports on Redis Cluster (≥ 7). Three cluster clients, as on one Redis: a publisher, a
 * subscriber (sharded pub/sub: one subscriber connection per master, opened on demand), and one
 * for presence and rate-limit scripts. Every script's keys share a slot: presence by its
 * hash-tagged groups, a rate limit by having one key.
 */
export async function openRedisClusterInfrastructure(options: RedisClusterInfrastructureOptions) {
  const instanceId = options.instanceId ?? randomUUID();
  const log = options.log.child({ instanceId });
  const opened: Cluster[] = [];
  try {
    // An SPUBLISH in flight when the link broke may already have run: never resend it (at-most-once).
    opened.push(await connectRedisCluster(options.nodes, 'polychat-pub', log, { redisOptions: { autoResendUnfulfilledCommands: false } }));
    opened.push(await connectRedisCluster(options.nodes, 'polychat-sub', log, { shardedSubscribers: true }));
    opened.push(await connectRedisCluster(options.nodes, 'polychat-cmd', log));
  } catch (err) {
    for (const c of opened) c.disconnect();
    throw err;
  }
  const [pub, sub, cmd] = opened as [Cluster, Cluster, Cluster];
  const broker = new RedisClusterBroker(pub, sub, { prefix: options.prefix, instanceId, log });
  await broker.start();
  const presence = new RedisPresenceStore(cmd, { prefix: options.prefix, instanceId, log, shards: CLUSTER_PRESENCE_SHARDS, ...options.presence });
  const limiter = new RedisRateLimiter(cmd, options.prefix, log);
  log.info({ prefix: options.prefix, nodes: options.nodes.length }, 'redis cluster bus ready');
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
      await Promise.all(opened.map((c) => (c.status === 'ready' ? c.quit().then(() => {}, () => c.disconnect()) : c.disconnect())));
    },
  };
}
