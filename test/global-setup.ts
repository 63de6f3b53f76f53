import { ensureChromium } from './support/chromium.js';
import { postgresAvailability } from './support/postgres.js';
import { redisAvailability } from './support/redis.js';

/**
 * PostgreSQL is part of the contract: in CI (CI=true) a missing server fails the run instead
 * of skipping the PostgreSQL half of the suites. Locally the suites say they are skipping.
 */
export default async function setup(): Promise<void> {
  const available = await postgresAvailability();
  if (!available.ok) {
    if (process.env['CI']) throw new Error(`PostgreSQL is required in CI but unreachable at ${available.url}: ${available.reason}`);
    process.stderr.write(`\n[tests] PostgreSQL unreachable at ${available.url} (${available.reason}); PostgreSQL suites will be skipped.\n`);
  }
  // The web client tests drive Debian's Chromium: provide it when this machine lets us.
  const chromium = await ensureChromium((line) => process.stderr.write(`\n${line}\n`));
  if (!chromium.ok) {
    if (process.env['CI']) throw new Error(`Chromium is required in CI: ${chromium.reason}`);
    process.stderr.write(`\n[tests] ${chromium.reason}; the web client tests will be skipped.\n`);
  }
  // Redis likewise: the bus conformance suites run their Redis half only when it is reachable.
  const redis = await redisAvailability();
  if (!redis.ok) {
    if (process.env['CI']) throw new Error(`Redis is required in CI but unreachable at ${redis.url}: ${redis.reason}`);
    process.stderr.write(`\n[tests] Redis unreachable at ${redis.url} (${redis.reason}); Redis cases of the bus conformance suites will be skipped.\n`);
  }
}
