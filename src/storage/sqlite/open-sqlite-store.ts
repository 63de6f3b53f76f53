import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase } from 'kysely';
import { KyselyStore } from '../sql/kysely-store.js';
import { migrate } from '../sql/migrate.js';
import { registerSearchFunctions } from './register-search-functions.js';
import { SqliteHotPath } from './sqlite-hot-path.js';
import type { Tables } from '../sql/tables.js';

const MMAP_BYTES = 256 * 1024 * 1024;

/**
 * The embedded default: one file, WAL mode. `synchronous=NORMAL` keeps every commit across a
 * process crash (kill -9); only a power loss can drop the last transactions.
 */
export async function openSqliteStore(file: string): Promise<KyselyStore> {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const database = new Database(file);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  // Reads of the file straight from the OS page cache, no copy into SQLite's 2 MB cache: search
  // walks FTS5 doclists far larger than that (1 000 000 messages: a quoted phrase of common words
  // 39 → 27 ms, every search ~30 % faster; docs/benchmarks.md "Search"). Address space only.
  if (file !== ':memory:') database.pragma(`mmap_size = ${MMAP_BYTES}`);
  registerSearchFunctions(database);
  const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  await migrate(db as unknown as Kysely<unknown>, 'sqlite');
  return new KyselyStore('sqlite', db, new SqliteHotPath(database, db));
}

const STATEMENT_CACHE = 256;

/**
 * Kysely prepares every query anew; compiling SQL is most of SQLite's cost on the hot path.
 * The same SQL text always yields the same statement, so keep the recent ones.
 */
function withStatementCache(database: Database.Database): SqliteDatabase {
  const cache = new Map<string, Database.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (stmt) {
        cache.delete(sql);
      } else {
        stmt = database.prepare(sql);
        if (cache.size >= STATEMENT_CACHE) {
          const oldest = cache.keys().next().value;
          if (oldest !== undefined) cache.delete(oldest);
        }
      }
      cache.set(sql, stmt);
      return stmt as unknown as ReturnType<SqliteDatabase['prepare']>;
    },
  };
}
