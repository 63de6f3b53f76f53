import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/ports/store.js';
import { openPostgresStore, withGenericPlans } from '../../src/storage/postgres/open-postgres-store.js';
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

  it('looks up client ids by index probe: a cached plan stays right while the table grows under it', async () => {
    await store.upsertUser('p', {}, Date.now());
    const chat = await store.createGroup({ name: 'probe', description: null, avatarUrl: null, ownerId: 'p', memberIds: [] }, Date.now());
    let n = 0;
    const append = (): Promise<unknown> => store.appendMessages([0, 1, 2].map(() => ({ chatId: chat.id, senderId: 'p', text: `probe ${n}`, kind: 'TEXT', replyTo: null, clientMsgId: `p${n++}` })), Date.now());
    const scans = async (): Promise<number> => {
      const { rows } = await admin.query<{ n: string }>(`select seq_scan as n from pg_stat_user_tables where relname = 'messages'`);
      return Number(rows[0]!.n);
    };
    // A backend reports its counts at a commit at least 1 s after its last report (else up to
    // 10 s later, when idle): two spaced appends make the hot path's connection report.
    const settled = async (): Promise<number> => {
      for (let i = 0; i < 2; i += 1) {
        await new Promise((r) => setTimeout(r, 1100));
        await append();
      }
      return scans();
    };
    // The statement's plan is made and cached now, while `messages` holds ~1000 rows…
    for (let i = 0; i < 10; i += 1) await append();
    // …and the table grows twentyfold under it, by rows this store never counted (no ANALYZE).
    await admin.query(
      `insert into messages (chat_id, sender_id, text, seq, kind, created_at, client_msg_id)
       select $1, 'p', 'filler ' || g, 1000000 + g, 'TEXT', 0, 'f' || g from generate_series(1, 20000) g`,
      [chat.id],
    );
    await admin.query('update chats set last_seq = 1020000 where id = $1', [chat.id]);
    const before = await settled();
    for (let i = 0; i < 40; i += 1) await append();
    const [again] = await store.appendMessages([{ chatId: chat.id, senderId: 'p', text: 'probe 0', kind: 'TEXT', replyTo: null, clientMsgId: 'p0' }], Date.now());
    expect(again!.created).toBe(false);
    expect(await settled()).toBe(before);
  });
});

describe('the hot path connection URL', () => {
  it("adds generic plans to the URL's own startup options, keeping them", () => {
    const url = new URL(withGenericPlans('postgres://u:p@db:5432/chat?options=-c%20statement_timeout%3D5000&sslmode=require'));
    expect(url.searchParams.get('options')).toBe('-c statement_timeout=5000 -c plan_cache_mode=force_generic_plan');
    expect(url.searchParams.get('sslmode')).toBe('require');
    expect(`${url.username}:${url.password}@${url.host}${url.pathname}`).toBe('u:p@db:5432/chat');
    expect(new URL(withGenericPlans('postgres://db/chat')).searchParams.get('options')).toBe('-c plan_cache_mode=force_generic_plan');
    expect(withGenericPlans('host=/run/postgresql dbname=chat')).toBe('host=/run/postgresql dbname=chat');
  });
});
