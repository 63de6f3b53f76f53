import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/ports/store.js';
import { openPostgresStore } from '../../src/storage/postgres/open-postgres-store.js';
import { backends } from '../support/backends.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startServer, registerUser, type TestServer } from '../support/test-server.js';

const SENDERS = 8;
const PER_SENDER = 500;

describe.runIf(backends.includes('postgres'))('per-chat seq under concurrency on PostgreSQL', () => {
  let db: TestDatabase;
  let stores: Store[];

  beforeAll(async () => {
    db = await createTestDatabase();
    // Separate pools: the eight writers really are eight connections racing for the chat row.
    stores = await Promise.all(Array.from({ length: SENDERS }, () => openPostgresStore(db.url, { poolSize: 2 })));
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await db.drop();
  });

  it('8 concurrent writers × 500 messages → seqs exactly 1..4000, history in seq order', async () => {
    const store = stores[0]!;
    for (let i = 0; i < SENDERS; i++) await store.upsertUser(`w${i}`, {}, Date.now());
    const chat = await store.createGroup(
      { name: 'race', description: null, avatarUrl: null, ownerId: 'w0', memberIds: Array.from({ length: SENDERS }, (_, i) => `w${i}`) },
      Date.now(),
    );
    await Promise.all(
      stores.map(async (s, i) => {
        for (let n = 0; n < PER_SENDER; n++) {
          await s.appendMessages([{ chatId: chat.id, senderId: `w${i}`, text: `${i}:${n}`, kind: 'TEXT', replyTo: null, clientMsgId: null }], Date.now());
        }
      }),
    );
    const total = SENDERS * PER_SENDER;
    const history = await store.listMessages(chat.id, { limit: total, offset: 0 });
    expect(history).toHaveLength(total);
    expect(history.map((m) => m.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    // Each sender's own messages keep their order (commit order = seq order).
    for (let i = 0; i < SENDERS; i++) {
      const mine = history.filter((m) => m.senderId === `w${i}`).map((m) => Number(m.text.split(':')[1]));
      expect(mine).toEqual(Array.from({ length: PER_SENDER }, (_, n) => n));
    }
    expect((await store.getChat(chat.id))?.lastSeq).toBe(total);
  });
});

describe.runIf(backends.includes('postgres'))('multi-chat batches under concurrency on PostgreSQL', () => {
  let db: TestDatabase;
  let stores: Store[];

  beforeAll(async () => {
    db = await createTestDatabase();
    stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore(db.url, { poolSize: 2 })));
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await db.drop();
  });

  it('batches spanning several chats, in any order, from four writers → no deadlock, gapless seqs per chat', async () => {
    const store = stores[0]!;
    await store.upsertUser('m0', {}, Date.now());
    const chats = await Promise.all([1, 2, 3].map((n) => store.createGroup({ name: `c${n}`, description: null, avatarUrl: null, ownerId: 'm0', memberIds: [] }, Date.now())));
    const ids = chats.map((c) => c.id);
    const orders = [ids, [...ids].reverse(), [ids[1]!, ids[0]!, ids[2]!], [ids[2]!, ids[0]!, ids[1]!]];
    await Promise.all(
      stores.map(async (s, w) => {
        for (let n = 0; n < 60; n++) {
          const batch = orders[(w + n) % orders.length]!.map((chatId) => ({ chatId, senderId: 'm0', text: `${w}:${n}`, kind: 'TEXT', replyTo: null, clientMsgId: null }));
          await s.appendMessages(batch, Date.now());
        }
      }),
    );
    for (const chatId of ids) {
      const history = await store.listMessages(chatId, { limit: 1000, offset: 0 });
      expect(history.map((m) => m.seq)).toEqual(Array.from({ length: 240 }, (_, i) => i + 1));
    }
  });
});

describe.each(backends)('group commit through the core on %s', (backend) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer(backend);
  });
  afterAll(async () => t.close());

  it('8 concurrent senders × 500 messages through core.sendMessage → gapless seqs, nothing lost', async () => {
    const users = await Promise.all(Array.from({ length: SENDERS }, () => registerUser(t)));
    const core = t.server.core;
    const chat = await core.createGroup(users[0]!.id, { name: 'busy', memberIds: users.map((u) => u.id) });
    const sent = await Promise.all(
      users.map(async (u) => {
        const seqs: number[] = [];
        for (let n = 0; n < PER_SENDER; n++) seqs.push((await core.sendMessage(u.id, { chatId: chat.id, text: `${u.id}:${n}` })).message.seq);
        return seqs;
      }),
    );
    const all = sent.flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: SENDERS * PER_SENDER }, (_, i) => i + 1));
    const page = await core.history(users[0]!.id, chat.id, { limit: 200, offset: 0 });
    expect(page.map((m) => m.seq)).toEqual(Array.from({ length: 200 }, (_, i) => SENDERS * PER_SENDER - 199 + i));
  });
});
