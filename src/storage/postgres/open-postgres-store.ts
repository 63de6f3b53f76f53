import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { KyselyStore } from '../sql/kysely-store.js';
import { migrate } from '../sql/migrate.js';
import type { Tables } from '../sql/tables.js';
import { silentLogger, type Logger } from '../../ports/logger.js';
import { PlanRefresher } from './plan-refresher.js';
import { PostgresHotPath } from './postgres-hot-path.js';
import { translatePostgresErrors } from './postgres-errors.js';

// BIGINT (20) comes back as a JS number: ids and seqs stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

const MIGRATION_LOCK = 7_266_001;
const CONNECT_TIMEOUT_MS = 5_000;
const HOT_PATH_CONNECTIONS = 3;

export async function openPostgresStore(url: string, options: { poolSize?: number; log?: Logger } = {}): Promise<KyselyStore> {
  // A bounded connect: an unreachable server is an outage answered at once, not a hung request.
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // An idle client's error (a server restart) must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  try {
    // Several instances may start at once: one migrates while the others wait on the lock.
    await db.connection().execute(async (conn) => {
      await sql`select pg_advisory_lock(${MIGRATION_LOCK})`.execute(conn);
      try {
        await migrate(conn as unknown as Kysely<unknown>, 'postgres');
      } finally {
        await sql`select pg_advisory_unlock(${MIGRATION_LOCK})`.execute(conn);
      }
    });
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const log = options.log ?? silentLogger;
  const hotPool = openHotPathPool(url);
  const store = new KyselyStore('postgres', db, new PostgresHotPath(hotPool, new PlanRefresher(pool, log)), () => hotPool.end());
  return translatePostgresErrors(store, log);
}

/**
 * The per-message statements run on connections of their own that always use a statement's
 * generic plan. With the default `plan_cache_mode = auto`, PostgreSQL compared the generic plan
 * of the append statement (costed for 10 array elements) with custom plans costed for the real
 * few, kept choosing custom ones and planned the statement again on most executions: 0.3 ms of
 * planning for 0.3 ms of execution (measured: 2507 plans in 3500 calls, backend CPU per
 * single-message batch 950 µs, 547 µs with generic plans). The setting stays off the main pool:
 * there Kysely's unnamed statements are planned per call with their values, which search needs.
 * Three connections: the writer's single lane, the delivered-cursor flush and the cursor reads
 * of the delivery tracker, so appends do not wait behind receipt bookkeeping (one more per lane
 * if `POSTGRES_WRITE_LANES` in kysely-store.ts is ever raised).
 */
function openHotPathPool(url: string): pg.Pool {
  const hot = new pg.Pool({ connectionString: withGenericPlans(url), max: HOT_PATH_CONNECTIONS, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  hot.on('error', () => {});
  return hot;
}

/**
 * The URL with `plan_cache_mode` added to its startup `options` (pg lets the URL's own win over
 * the config's). A connection string that is not a URL (`host=… dbname=…`) is left as it is:
 * the hot path then runs with the server's default plan caching, slower but correct.
 */
export function withGenericPlans(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  const own = parsed.searchParams.get('options');
  parsed.searchParams.set('options', [own, '-c plan_cache_mode=force_generic_plan'].filter(Boolean).join(' '));
  return parsed.toString();
}
