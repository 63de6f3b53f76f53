import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { Broker } from '../../ports/broker.js';
import type { Logger } from '../../ports/logger.js';
import { RedisPresenceStore, type RedisPresenceOptions } from './redis-presence-store.js';
import { RedisRateLimiter } from './redis-rate-limiter.js';

/** What both deployments (one Redis, Redis Cluster) take beyond their addresses. */
export interface RedisPortsOptions {
  /** REDIS_PREFIX: every key and the bus channel live under it. */
  readonly prefix: string;
  readonly log: Logger;
  /** Defaults to a random UUID per process. */
  readonly instanceId?: string;
  /** Lease/renew/sweep timings (tests shorten them). */
  readonly presence?: Pick<RedisPresenceOptions, 'leaseMs' | 'renewMs' | 'sweepMs'>;
}

/** A broker of either deployment: started once its connections are open. */
export interface RedisBusBroker extends Broker {
  start(): Promise<void>;
}

/** How one deployment opens its three connections and builds its broker. */
export interface RedisDeployment<C extends Redis | Cluster, B extends RedisBusBroker> {
  /** Publisher, subscriber and command connections, opened in this order. */
  readonly connect: readonly [(log: Logger) => Promise<C>, (log: Logger) => Promise<C>, (log: Logger) => Promise<C>];
  broker(publisher: C, subscriber: C, options: { prefix: string; instanceId: string; log: Logger }): B;
  /** Presence shards (Redis Cluster spreads presence over hash-tagged groups). */
  readonly presenceShards?: number;
  /** Logged with "ready". */
  readonly describe: Record<string, unknown>;
}

/**
 * The bus ports on a Redis deployment: broker, presence and rate limiter over three
 * connections (a publisher, a subscriber — pub/sub needs its own — and one for presence and
 * rate-limit scripts, so lease renewals never delay a publish), a readiness check, and a close
 * that releases this instance's presence before the links go.
 */
export async function openRedisPorts<C extends Redis | Cluster, B extends RedisBusBroker>(options: RedisPortsOptions, deployment: RedisDeployment<C, B>) {
  const instanceId = options.instanceId ?? randomUUID();
  const log = options.log.child({ instanceId });
  const opened: C[] = [];
  try {
    for (const connect of deployment.connect) opened.push(await connect(log));
  } catch (err) {
    for (const c of opened) c.disconnect();
    throw err;
  }
  const [pub, sub, cmd] = opened as [C, C, C];
  const broker = deployment.broker(pub, sub, { prefix: options.prefix, instanceId, log });
  await broker.start();
  const shards = deployment.presenceShards === undefined ? {} : { shards: deployment.presenceShards };
  const presence = new RedisPresenceStore(cmd, { prefix: options.prefix, instanceId, log, ...shards, ...options.presence });
  const limiter = new RedisRateLimiter(cmd, options.prefix, log);
  log.info({ prefix: options.prefix, ...deployment.describe }, 'redis bus ready');
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
