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
  return translatePostgresErrors(new KyselyStore('postgres', db, new PostgresHotPath(pool, new PlanRefresher(pool, log))), log);
}
