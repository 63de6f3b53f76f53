import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../../ports/logger.js';

/**
 * Opens one ioredis connection and waits until it is ready, so a wrong `REDIS_URL` stops the
 * server at start with one clear line.
 *
 * The options make a Redis outage cheap for callers: the offline queue is off, so a command
 * issued while Redis is down fails at once instead of waiting in an unbounded in-process queue;
 * commands that were in flight when the link broke are retried at most twice. ioredis keeps
 * reconnecting forever (backoff up to 2 s) and resubscribes a subscriber connection by itself.
 * Errors are logged at most every 5 s per connection (ioredis would otherwise print them).
 */
export async function connectRedis(url: string, name: string, log: Logger, overrides: RedisOptions = {}): Promise<Redis> {
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 2,
    connectionName: name,
    retryStrategy: (times) => Math.min(times * 100, 2000),
    ...overrides,
  });
  let lastWarn = 0;
  let connected = false;
  let firstError: Error | null = null;
  client.on('error', (err: Error) => {
    firstError ??= err;
    if (!connected) return; // reported by the startup failure below
    const now = Date.now();
    if (now - lastWarn < 5000) return;
    lastWarn = now;
    log.warn({ err: { message: err.message }, connection: name }, 'redis connection error');
  });
  let wasReady = false;
  client.on('ready', () => {
    if (wasReady) log.info({ connection: name }, 'redis connection restored');
    wasReady = true;
  });
  client.on('end', () => log.debug({ connection: name }, 'redis connection ended'));
  try {
    await client.connect();
    connected = true;
  } catch (err) {
    client.disconnect();
    throw new Error(`Redis unreachable at ${redactUrl(url)}: ${(firstError ?? (err as Error)).message}`);
  }
  return client;
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid url)';
  }
}
