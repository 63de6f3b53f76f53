import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/ports/store.js';
import { openPostgresStore } from '../../src/storage/postgres/open-postgres-store.js';
import { backends } from '../support/backends.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { waitFor } from '../support/wait.js';

// The append statement's cached plan is made from the statistics of the moment; a fresh
// install's are those of empty tables. The store analyzes the hot tables as its appends grow them
// (manual ANALYZEs only: autovacuum's own are counted apart, so they cannot make this pass).
describe.runIf(backends.includes('postgres'))('PostgreSQL hot tables analyzed as they grow', () => {
  let db: TestDatabase;
  let store: Store;
  let admin: pg.Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    store = await openPostgresStore(db.url, { poolSize: 2 });
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin.end();
    await store.close();
    await db.drop();
  });

  const analyzeCount = async (): Promise<number> => {
    const { rows } = await admin.query<{ n: string }>(`select analyze_count as n from pg_stat_user_tables where relname = 'messages'`);
    return Number(rows[0]!.n);
  };

  it('no ANALYZE before 1 000 appended rows, one soon after', async () => {
    await store.upsertUser('a', {}, Date.now());
    const chat = await store.createGroup({ name: 'grow', description: null, avatarUrl: null, ownerId: 'a', memberIds: [] }, Date.now());
    const append = async (from: number, count: number): Promise<void> => {
      for (let i = from; i < from + count; i += 50) {
        const batch = Array.from({ length: Math.min(50, from + count - i) }, (_, k) => ({
          chatId: chat.id,
          senderId: 'a',
          text: `m${i + k}`,
          kind: 'TEXT',
          replyTo: null,
          clientMsgId: `c${i + k}`,
        }));
        await store.appendMessages(batch, Date.now());
      }
    };
    // Statistics reach pg_stat_user_tables asynchronously: compare against a settled start.
    await new Promise((r) => setTimeout(r, 1500));
    const start = await analyzeCount();
    await append(0, 950);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await analyzeCount()).toBe(start);
    await append(950, 100);
    await waitFor(async () => (await analyzeCount()) > start, 10_000);
    const history = await store.listMessagesAfterSeq(chat.id, 0, 2000);
    expect(history.map((m) => m.seq)).toEqual(Array.from({ length: 1050 }, (_, i) => i + 1));
  });
});
