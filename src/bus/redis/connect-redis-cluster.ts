import { Cluster, type ClusterOptions } from 'ioredis';
import type { Logger } from '../../ports/logger.js';

export interface RedisClusterNodeAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Opens one ioredis `Cluster` client from the seed nodes (the rest of the cluster is
 * discovered) and waits until it is ready, so a wrong `REDIS_CLUSTER_NODES` stops the server at
 * start with one clear line.
 *
 * The same outage stance as `connectRedis`: no offline queue (a command issued while the
 * cluster is unreachable fails at once), at most two retries of a command in flight, reconnect
 * forever with a backoff up to 2 s, errors logged at most every 5 s. A command that meets
 * CLUSTERDOWN or a failover is retried by ioredis for up to ~1.6 s (16 redirections, 100 ms
 * apart) before it fails.
 */
export async function connectRedisCluster(
  nodes: readonly RedisClusterNodeAddress[],
  name: string,
  log: Logger,
  overrides: ClusterOptions = {},
): Promise<Cluster> {
  const client = new Cluster(
    nodes.map((n) => ({ host: n.host, port: n.port })),
    {
      lazyConnect: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: (times) => Math.min(times * 100, 2000),
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      maxRedirections: 16,
      ...overrides,
      redisOptions: { connectionName: name, maxRetriesPerRequest: 2, ...overrides.redisOptions },
    },
  );
  let lastWarn = 0;
  let connected = false;
  let firstError: Error | null = null;
  const warn = (err: Error): void => {
    firstError ??= err;
    if (!connected) return; // reported by the startup failure below
    const now = Date.now();
    if (now - lastWarn < 5000) return;
    lastWarn = now;
    log.warn({ err: { message: err.message }, connection: name }, 'redis cluster connection error');
  };
  client.on('error', warn);
  client.on('node error', warn);
  let wasReady = false;
  client.on('ready', () => {
    if (wasReady) log.info({ connection: name }, 'redis cluster connection restored');
    wasReady = true;
  });
  client.on('end', () => log.debug({ connection: name }, 'redis cluster connection ended'));
  // ioredis opens a node's connection on its first command, and (without an offline queue)
  // retries commands that meet it still connecting on a random node, to be redirected back:
  // a burst of publishes to one topic would arrive out of order. So every node known at start
  // is connected before the client is handed out (a node's connection then reconnects by
  // itself). A sharded subscriber client sends no commands there: its per-master subscriber
  // connections are its own.
  const eager = overrides.shardedSubscribers !== true;
  try {
    await client.connect();
    if (eager) await Promise.all(client.nodes('all').map((node) => node.ping().catch(() => {})));
    connected = true;
  } catch (err) {
    client.disconnect();
    const where = nodes.map((n) => `${n.host}:${n.port}`).join(',');
    throw new Error(`Redis Cluster unreachable at ${where}: ${(firstError ?? (err as Error)).message}`);
  }
  return client;
}
