import { connectRedis } from './connect-redis.js';
import { RedisBroker } from './redis-broker.js';
import { openRedisPorts, type RedisPortsOptions } from './redis-ports.js';

export interface RedisInfrastructureOptions extends RedisPortsOptions {
  readonly url: string;
}

/** The bus ports on one Redis, so several server processes sharing one database act as one server. */
export function openRedisInfrastructure(options: RedisInfrastructureOptions) {
  return openRedisPorts(options, {
    connect: [
      // A PUBLISH in flight when the link broke may already have run: never resend it (at-most-once).
      (log) => connectRedis(options.url, 'polychat-pub', log, { autoResendUnfulfilledCommands: false }),
      (log) => connectRedis(options.url, 'polychat-sub', log),
      (log) => connectRedis(options.url, 'polychat-cmd', log),
    ],
    broker: (pub, sub, o) => new RedisBroker(pub, sub, o),
    describe: {},
  });
}
