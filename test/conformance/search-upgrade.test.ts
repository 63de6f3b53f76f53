import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { parseSearchExpression } from '../../src/domain/search-expression.js';
import type { Store } from '../../src/ports/store.js';
import { openPostgresStore } from '../../src/storage/postgres/open-postgres-store.js';
import { migrations } from '../../src/storage/sql/migrations.js';
import { openSqliteStore } from '../../src/storage/sqlite/open-sqlite-store.js';
import { backends, type Backend } from '../support/backends.js';
import { createTestDatabase } from '../support/postgres.js';

const BEFORE = '0004_message_edits_change_cursor';
const TEXTS = ['Green, APPLE pie', 'apple green', 'one two x two three', 'one two three', 'ёж-Ёлка'];

/**
 * Migration 0005 rebuilds every search document (word pairs; PostgreSQL's id buckets): messages
 * stored under the schema before it must be found afterwards exactly as new ones are.
 */
describe.each(backends)('search index upgrade (migration 0005) on %s', (backend: Backend) => {
  it('re-indexes the messages stored before it: words, phrases and edits found as for new ones', async () => {
    const { db, reopen, drop } = await databaseBefore(backend);
    try {
      await db.executeQuery(sql`insert into users (id, username, created_at) values ('me', 'me', 1)`.compile(db));
      await db.executeQuery(sql`insert into chats (id, type, name, created_at, updated_at, last_seq) values (1, 'group', 'old', 1, 1, ${TEXTS.length})`.compile(db));
      await db.executeQuery(sql`insert into members (chat_id, user_id, role, joined_at) values (1, 'me', 'owner', 1)`.compile(db));
      for (const [i, text] of TEXTS.entries()) {
        await db.executeQuery(sql`insert into messages (chat_id, sender_id, text, seq, kind, created_at) values (1, 'me', ${text}, ${i + 1}, 'TEXT', ${i + 1})`.compile(db));
      }
      await db.destroy();
      const store = await reopen();
      try {
        const search = async (q: string): Promise<string[]> =>
          (await store.searchMessages({ memberId: 'me', expression: parseSearchExpression(q)!, limit: 50, offset: 0 })).map((m) => m.text);
        expect(await search('"green apple"')).toEqual(['Green, APPLE pie']);
        expect(await search('"one two three"')).toEqual(['one two three']);
        expect(await search('"ЁЖ ёлка"')).toEqual(['ёж-Ёлка']);
        expect((await search('apple')).sort()).toEqual(['Green, APPLE pie', 'apple green']);
        // The triggers replaced by 0005 keep following edits of the old rows.
        const [oldest] = await store.searchMessages({ memberId: 'me', expression: parseSearchExpression('"apple pie"')!, limit: 1, offset: 0 });
        await store.editMessage(1, oldest!.id, 'pear tart', 10);
        expect(await search('"apple pie"')).toEqual([]);
        expect(await search('"pear tart"')).toEqual(['pear tart']);
      } finally {
        await store.close();
      }
    } finally {
      await drop();
    }
  });
});

/** A database migrated up to the migration before 0005, and how to open it as the server does. */
async function databaseBefore(backend: Backend): Promise<{ db: Kysely<unknown>; reopen: () => Promise<Store>; drop: () => Promise<void> }> {
  if (backend === 'postgres') {
    const database = await createTestDatabase();
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 1 }) }) });
    await migrateTo(db, 'postgres');
    return { db, reopen: () => openPostgresStore(database.url), drop: () => database.drop() };
  }
  const dir = mkdtempSync(join(tmpdir(), 'search-upgrade-'));
  const file = join(dir, 'chat.db');
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(file) }) });
  await migrateTo(db, 'sqlite');
  return { db, reopen: () => openSqliteStore(file), drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

async function migrateTo(db: Kysely<unknown>, flavor: 'sqlite' | 'postgres'): Promise<void> {
  const { error } = await new Migrator({ db, provider: { getMigrations: async () => migrations(flavor) } }).migrateTo(BEFORE);
  if (error) throw error;
}
