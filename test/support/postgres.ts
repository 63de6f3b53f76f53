import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server the tests create their own databases on (a maintenance database URL). */
export const ADMIN_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export async function postgresAvailability(): Promise<{ ok: boolean; url: string; reason: string }> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return { ok: true, url: ADMIN_URL, reason: '' };
  } catch (err) {
    return { ok: false, url: ADMIN_URL, reason: (err as Error).message };
  } finally {
    await client.end().catch(() => {});
  }
}

let cached: boolean | undefined;
/** Whether the PostgreSQL half of a suite runs (CI makes an unreachable server fatal in global setup). */
export async function postgresEnabled(): Promise<boolean> {
  cached ??= (await postgresAvailability()).ok;
  return cached;
}

export interface TestDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

/** A fresh database per test file, dropped afterwards: runs never see each other's rows. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `chat_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}
