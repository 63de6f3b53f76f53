import { connectRedisCluster, type RedisClusterNodeAddress } from './connect-redis-cluster.js';
import { CLUSTER_PRESENCE_SHARDS } from './presence-keys.js';
import { RedisClusterBroker } from './redis-cluster-broker.js';
import { openRedisPorts, type RedisPortsOptions } from './redis-ports.js';

export interface RedisClusterInfrastructureOptions extends RedisPortsOptions {
  /** REDIS_CLUSTER_NODES: seed nodes; the others are discovered. */
  readonly nodes: readonly RedisClusterNodeAddress[];
}

/**
 * The bus ports on Redis Cluster (≥ 7): the subscriber uses sharded pub/sub (one connection
 * per master, opened on demand), and every script's keys share a slot — presence by its
 * hash-tagged groups, a rate limit by having one key.
 */
export function openRedisClusterInfrastructure(options: RedisClusterInfrastructureOptions) {
  return openRedisPorts(options, {
    connect: [
      // An SPUBLISH in flight when the link broke may already have run: never resend it (at-most-once).
      (log) => connectRedisCluster(options.nodes, 'polychat-pub', log, { redisOptions: { autoResendUnfulfilledCommands: false } }),
      (log) => connectRedisCluster(options.nodes, 'polychat-sub', log, { shardedSubscribers: true }),
      (log) => connectRedisCluster(options.nodes, 'polychat-cmd', log),
    ],
    broker: (pub, sub, o) => new RedisClusterBroker(pub, sub, o),
    presenceShards: CLUSTER_PRESENCE_SHARDS,
    describe: { nodes: options.nodes.length },
  });
}
