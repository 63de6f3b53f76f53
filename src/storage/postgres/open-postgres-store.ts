import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { KyselyStore } from '../sql/kysely-store.js';
import { migrate } from '../sql/migrate.js';
import type { Tables } from '../sql/tables.js';
import { badRequest } from '../../domain/errors.js';
import { PostgresHotPath } from './postgres-hot-path.js';

// BIGINT (20) comes back as a JS number: ids and seqs stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

const MIGRATION_LOCK = 7_266_001;

export async function openPostgresStore(url: string, options: { poolSize?: number } = {}): Promise<KyselyStore> {
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10 });
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
  return refuseNul(new KyselyStore('postgres', db, new PostgresHotPath(pool)));
}

/** SQLSTATEs PostgreSQL raises for text it cannot hold (U+0000): 22021, 22P05. */
const NUL_ERRORS = new Set(['22021', '22P05']);

/**
 * PostgreSQL cannot store or even compare text holding U+0000. The core refuses such input where
 * it enters; this is the net under every other path: the error becomes a 400, never a 500.
 */
function refuseNul<T extends object>(store: T): T {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result: unknown = value.apply(target, args);
        if (!(result instanceof Promise)) return result;
        return result.catch((err: unknown) => {
          if (NUL_ERRORS.has((err as { code?: string } | null)?.code ?? '')) throw badRequest('Text must not contain NUL characters');
          throw err;
        });
      };
    },
  });
}
