import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { api, registerUser, startServer, type TestServer, type TestUser } from '../../support/test-server.js';
import { sleep, waitFor } from '../../support/wait.js';
import { StompTestClient } from './stomp-clients.js';

/**
 * Groups above LARGE_GROUP_SIZE (3 here, so a group of 4 is large): `MESSAGE_DELIVERED` comes as
 * one cursor per recipient per flush; a small group keeps one frame per message and recipient.
 */
describe.each(backends)('stomp MESSAGE_DELIVERED in large groups on %s', (backend) => {
  let t: TestServer;
  let alice: TestUser, bob: TestUser, carol: TestUser, dave: TestUser;
  const open: StompTestClient[] = [];
  const connect = async (user: TestUser) => {
    const c = await StompTestClient.connect(t, user.token);
    open.push(c);
    return c;
  };
  beforeAll(async () => {
    // A long flush, so the three sends below land in one announcement.
    t = await startServer(backend, { env: { LARGE_GROUP_SIZE: '3' }, coreOverrides: { receiptFlushMs: 300 } });
    [alice, bob, carol, dave] = await Promise.all([registerUser(t), registerUser(t), registerUser(t), registerUser(t)]);
  });
  afterAll(async () => {
    await Promise.all(open.map((c) => c.close().catch(() => {})));
    await t.close();
  });

  const run = async (participants: TestUser[]) => {
    const group = Number((await api(t, alice, 'POST', '/api/chats', { type: 'group', name: 'Big', participantIds: participants.map((u) => u.id) })).body.id);
    const a = await connect(alice);
    await a.subscribe(`/topic/chat/${group}`);
    const readers = await Promise.all(participants.map((u) => connect(u)));
    for (const r of readers) await r.subscribe(`/topic/chat/${group}`);
    for (const text of ['one', 'two', 'three']) a.send(`/app/chat/${group}/sendMessage`, { content: text, type: 'TEXT' });
    const sent: { id: number; seq: number }[] = [];
    await waitFor(() => {
      sent.length = 0;
      for (const m of a.messages) if (m.body.type === 'MESSAGE' && m.body.chatId === group) sent.push({ id: Number(m.body.payload.id), seq: m.body.payload.seq });
      return sent.length === 3;
    });
    return { group, a, sent };
  };

  it('a large group: one cursor per recipient per flush, "delivered up to" the newest message', async () => {
    const { group, a, sent } = await run([bob, carol, dave]);
    const delivered = () => a.messages.filter((m) => m.body.type === 'MESSAGE_DELIVERED' && m.body.chatId === group).map((m) => m.body.payload);
    await waitFor(() => new Set(delivered().map((p) => p.userId)).size === 3, 5000, 'a cursor for each recipient');
    await sleep(400);
    const newest = sent.reduce((x, y) => (y.seq > x.seq ? y : x));
    // Every recipient's cursor ends at the newest message; never more frames than flushes × recipients.
    for (const u of [bob, carol, dave]) {
      const mine = delivered().filter((p) => p.userId === u.id);
      expect(mine.at(-1)).toEqual({ messageId: newest.id, userId: u.id, seq: newest.seq, upTo: true });
      expect(mine.length).toBeLessThanOrEqual(2);
      expect(mine.map((p) => p.seq)).toEqual([...mine.map((p) => p.seq)].sort((x, y) => x - y));
    }
    expect(delivered().length).toBeLessThan(9);
  });

  it('a group at the threshold keeps one frame per message and recipient', async () => {
    const { group, a, sent } = await run([bob, carol]);
    const delivered = () => a.messages.filter((m) => m.body.type === 'MESSAGE_DELIVERED' && m.body.chatId === group).map((m) => `${m.body.payload.messageId}:${m.body.payload.userId}:${m.body.payload.upTo ?? ''}`);
    await waitFor(() => delivered().length >= 6, 5000, 'six MESSAGE_DELIVERED');
    await sleep(200);
    expect(delivered().sort()).toEqual(sent.flatMap((m) => [bob, carol].map((u) => `${m.id}:${u.id}:`)).sort());
  });
});
