import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { KyselyStore } from '../sql/kysely-store.js';
import { migrate } from '../sql/migrate.js';
import type { Tables } from '../sql/tables.js';

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
  const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database }) });
  await migrate(db as unknown as Kysely<unknown>, 'sqlite');
  return new KyselyStore('sqlite', db);
}
