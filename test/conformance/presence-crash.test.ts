import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { openRedisInfrastructure } from '../../src/bus/redis/open-redis-infrastructure.js';
import { silentLogger } from '../../src/ports/logger.js';
import { deleteKeys, randomPrefix, redisEnabled, TEST_REDIS_URL } from '../support/redis.js';
import { sleep, waitFor } from '../support/wait.js';

/**
 * The real thing: another process holds leases and is killed with SIGKILL (no shutdown code
 * runs); this process's infrastructure must report its users offline, once each.
 */
describe.runIf(await redisEnabled())('presence after an instance is killed (kill -9 of a real process)', () => {
  const prefix = randomPrefix();
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    await deleteKeys(prefix);
  });

  it("reports the killed process's users offline, and only those", async () => {
    const timings = { leaseMs: 1200, renewMs: 250, sweepMs: 150 };
    const survivor = await openRedisInfrastructure({ url: TEST_REDIS_URL, prefix, instanceId: 'survivor', log: silentLogger, presence: timings });
    cleanups.push(() => survivor.close());
    const reports: string[] = [];
    survivor.presence.onExpired((userId) => void reports.push(userId));
    await survivor.presence.connect('shared', 'mine', Date.now());

    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/presence-crash-child.ts', TEST_REDIS_URL, prefix, 'doomed', 'alice', 'bob', 'shared'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    cleanups.push(() => void child.kill('SIGKILL'));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('ready'), 20_000, 'child instance ready');
    expect(await survivor.presence.isOnline(['alice', 'bob', 'shared'])).toEqual(new Set(['alice', 'bob', 'shared']));
    await sleep(timings.leaseMs * 2); // the child's renewals keep them online meanwhile
    expect(reports).toEqual([]);

    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;

    await waitFor(() => reports.length >= 2, 15_000, 'both users reported offline');
    await sleep(timings.sweepMs * 4);
    expect(reports.sort()).toEqual(['alice', 'bob']);
    expect(await survivor.presence.isOnline(['alice', 'bob', 'shared'])).toEqual(new Set(['shared']));
    expect(await survivor.presence.lastSeen('alice')).not.toBeNull();
  });
});
