/**
 * A stand-in server instance for the kill -9 test: opens the Redis infrastructure on the given
 * prefix with short presence timings, registers connections for the given users, prints
 * "ready", and renews its leases until it is killed.
 * argv: url prefix instanceId userId...
 */
import { openRedisInfrastructure } from '../../src/bus/redis/open-redis-infrastructure.js';
import { silentLogger } from '../../src/ports/logger.js';

const [url, prefix, instanceId, ...users] = process.argv.slice(2);
const infra = await openRedisInfrastructure({
  url: url!,
  prefix: prefix!,
  instanceId: instanceId!,
  log: silentLogger,
  presence: { leaseMs: 1200, renewMs: 250, sweepMs: 150 },
});
for (const user of users) await infra.presence.connect(user, `conn-${user}`, Date.now());
process.stdout.write('ready\n');
setInterval(() => {}, 1000);
