import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The Redis the tests use (each test on its own random key prefix). */
export const TEST_REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

export async function redisAvailability(): Promise<{ ok: boolean; url: string; reason: string }> {
  const client = new Redis(TEST_REDIS_URL, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let first: Error | null = null;
  client.on('error', (err: Error) => void (first ??= err));
  try {
    await client.connect();
    await client.ping();
    return { ok: true, url: TEST_REDIS_URL, reason: '' };
  } catch (err) {
    return { ok: false, url: TEST_REDIS_URL, reason: (first ?? (err as Error)).message };
  } finally {
    client.disconnect();
  }
}

let cached: boolean | undefined;
/** Whether the Redis half of a suite runs (CI makes an unreachable Redis fatal in global setup). */
export async function redisEnabled(): Promise<boolean> {
  cached ??= (await redisAvailability()).ok;
  if (!cached && !process.env['CI']) process.stderr.write(`[tests] Redis unreachable at ${TEST_REDIS_URL}; Redis cases skipped.\n`);
  return cached;
}

/** A fresh key prefix per test, so runs and tests never see each other's keys. */
export function randomPrefix(): string {
  return `test:${Date.now().toString(36)}:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under `prefix` (SCAN, never KEYS). */
export async function deleteKeys(prefix: string): Promise<void> {
  const client = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

/** How many keys live under `prefix` (tests check their cleanup and key layout). */
export async function countKeys(prefix: string): Promise<number> {
  const client = new Redis(TEST_REDIS_URL);
  client.on('error', () => {});
  try {
    let n = 0;
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 500);
      cursor = next;
      n += keys.length;
    } while (cursor !== '0');
    return n;
  } finally {
    client.disconnect();
  }
}
