import { ConfigError } from '../../app/config.js';
import type { Store } from '../../ports/store.js';

/** Placeholder until the Redis bus lands: refuse to start rather than silently run single-instance. */
export async function openRedisInfrastructure(_url: string, _prefix: string, _store: Store): Promise<never> {
  throw new ConfigError('REDIS_URL', 'the Redis bus is not available in this version yet; unset REDIS_URL');
}
