import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openPostgresStore } from '../src/storage/postgres/open-postgres-store.js';
import { openSqliteStore } from '../src/storage/sqlite/open-sqlite-store.js';

/** A group chat to create directly in the database; the first member is its owner. */
export interface BulkChat {
  readonly id: number;
  readonly name: string;
  readonly memberIds: readonly string[];
}

/**
 * A fresh database of its own for one scenario, filled directly (not through the API: 10 000
 * `whoami` calls and a 10 000-member `POST /api/chats` would measure provisioning, not chat):
 * SQLite in a temporary DATA_DIR, or — with DATABASE_URL, or `postgres: true` — a throwaway
 * PostgreSQL database next to it, dropped afterwards, so the lead's bench database never keeps
 * these rows. The schema comes from the server's own migrations.
 */
export interface BulkStorage {
  /** What the server process needs (`DATA_DIR` or `DATABASE_URL`). */
  readonly env: Record<string, string>;
  readonly kind: 'sqlite' | 'postgresql';
  fill(userIds: readonly string[], chats: readonly BulkChat[]): Promise<void>;
  drop(): Promise<void>;
}

const T0 = 1_700_000_000_000;
const DEFAULT_ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';

export async function bulkStorage(options: { postgres?: boolean } = {}): Promise<BulkStorage> {
  const base = process.env['DATABASE_URL'] ?? (options.postgres ? DEFAULT_ADMIN : undefined);
  return base ? postgresStorage(base) : sqliteStorage();
}

function sqliteStorage(): BulkStorage {
  const dir = mkdtempSync(join(tmpdir(), 'polychat-scale-'));
  const file = join(dir, 'chat.db');
  return {
    env: { DATA_DIR: dir },
    kind: 'sqlite',
    async fill(userIds, chats) {
      await (await openSqliteStore(file)).close();
      const db = new Database(file);
      db.pragma('journal_mode = WAL');
      const user = db.prepare('insert into users (id, username, created_at) values (?, ?, ?)');
      const chat = db.prepare("insert into chats (id, type, name, created_at, updated_at, last_seq) values (?, 'group', ?, ?, ?, 0)");
      const member = db.prepare('insert into members (chat_id, user_id, role, joined_at) values (?, ?, ?, ?)');
      db.transaction(() => {
        for (const id of userIds) user.run(id, id, T0);
        for (const c of chats) {
          chat.run(c.id, c.name, T0, T0);
          c.memberIds.forEach((u, i) => member.run(c.id, u, i === 0 ? 'owner' : 'member', T0));
        }
      })();
      db.exec('analyze');
      db.close();
    },
    async drop() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresStorage(baseUrl: string): Promise<BulkStorage> {
  const url = new URL(baseUrl);
  const name = `polychat_scale_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  url.pathname = `/${name}`;
  const own = url.toString();
  return {
    env: { DATABASE_URL: own },
    kind: 'postgresql',
    async fill(userIds, chats) {
      await (await openPostgresStore(own)).close();
      const db = new pg.Client({ connectionString: own });
      await db.connect();
      try {
        await db.query('insert into users (id, username, created_at) select u, u, $2 from unnest($1::text[]) u', [userIds, T0]);
        await db.query("insert into chats (id, type, name, created_at, updated_at, last_seq) select i, 'group', n, $3, $3, 0 from unnest($1::bigint[], $2::text[]) as x(i, n)", [chats.map((c) => c.id), chats.map((c) => c.name), T0]);
        const rows = chats.flatMap((c) => c.memberIds.map((u, i) => [c.id, u, i === 0 ? 'owner' : 'member'] as const));
        for (let i = 0; i < rows.length; i += 50_000) {
          const part = rows.slice(i, i + 50_000);
          await db.query('insert into members (chat_id, user_id, role, joined_at) select c, u, r, $4 from unnest($1::bigint[], $2::text[], $3::text[]) as x(c, u, r)', [part.map((r) => r[0]), part.map((r) => r[1]), part.map((r) => r[2]), T0]);
        }
        await db.query(`select setval(pg_get_serial_sequence('chats', 'id'), $1)`, [Math.max(1, ...chats.map((c) => c.id))]);
        await db.query('analyze');
      } finally {
        await db.end();
      }
    },
    async drop() {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}
